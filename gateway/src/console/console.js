// The console's only script: conveniences, never needed to use a page (every form works
// without it). A page answering a form with an error shows its own address; the centre
// picker submits on change, staying in the same section; a CSV
// chosen with the file picker is read into the import form's text area.
document.addEventListener("DOMContentLoaded", () => {
  // A page that answers a form with its error shows its own address, not the form's POST
  // address, so a reload does not send the form again.
  const own = document.querySelector("[data-page-url]");
  if (own && new URL(own.dataset.pageUrl, location.href).pathname !== location.pathname) {
    history.replaceState(null, "", own.dataset.pageUrl);
  }
  for (const form of document.querySelectorAll("form[data-centre-picker]")) {
    const select = form.querySelector("select");
    select.addEventListener("change", () => {
      const section = form.dataset.section || "dashboard";
      location.href = select.value ? `/c/${select.value}/${section}` : "/dashboard";
    });
  }
  for (const button of document.querySelectorAll("button[data-print]")) {
    button.addEventListener("click", () => window.print());
  }
  for (const input of document.querySelectorAll("input[type=file][data-fill]")) {
    input.addEventListener("change", async () => {
      const file = input.files[0];
      if (file) document.getElementById(input.dataset.fill).value = await file.text();
    });
  }
});
