// The console's only script: conveniences, never needed to use a page (every form works
// without it). The centre picker submits on change; a CSV chosen with the file picker is
// read into the import form's text area.
document.addEventListener("DOMContentLoaded", () => {
  for (const form of document.querySelectorAll("form[data-centre-picker]")) {
    const select = form.querySelector("select");
    select.addEventListener("change", () => {
      location.href = select.value ? `/c/${select.value}/dashboard` : "/dashboard";
    });
  }
  for (const input of document.querySelectorAll("input[type=file][data-fill]")) {
    input.addEventListener("change", async () => {
      const file = input.files[0];
      if (file) document.getElementById(input.dataset.fill).value = await file.text();
    });
  }
});
