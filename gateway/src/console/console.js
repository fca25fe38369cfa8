// The console's only script: conveniences, never needed to use a page (every form works
// without it). A page answering a form with an error shows its own address; the centre
// picker submits on change, staying in the same section; a manual entry shows its running
// balance; a CSV
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
  // A manual entry's running balance: the debits and credits as typed, in yuan, and the
  // difference (the server checks again when the entry is posted).
  for (const form of document.querySelectorAll("form[data-balance]")) {
    const fen = (text) => {
      const t = text.trim().replace(/^[¥￥]/, "").replace(/元$/, "").replace(/[,，\s]/g, "");
      if (!/^\d+(\.\d{1,2})?$/.test(t)) return 0;
      const [whole, part = ""] = t.split(".");
      return Number(whole) * 100 + Number((part + "00").slice(0, 2));
    };
    const yuan = (minor) => "¥" + (Math.floor(minor / 100)).toLocaleString("en-US") + "." + String(minor % 100).padStart(2, "0");
    const sum = (attr) => Array.from(form.querySelectorAll(`input[${attr}]`)).reduce((s, i) => s + fen(i.value), 0);
    const balance = form.querySelector("#balance");
    const update = () => {
      const debits = sum("data-debit"), credits = sum("data-credit");
      form.querySelector("#debit-total").textContent = yuan(debits);
      form.querySelector("#credit-total").textContent = yuan(credits);
      const even = debits === credits;
      balance.textContent = even ? balance.dataset.balanced : balance.dataset.unbalanced + yuan(Math.abs(debits - credits));
      balance.classList.toggle("ok", even && debits > 0);
      balance.classList.toggle("off", !even);
      // The server's refusal of the lines stays only while they are still out of balance.
      const refused = form.querySelector("#f-lines-error");
      if (refused) {
        refused.hidden = even && debits > 0;
        form.querySelector("fieldset.lines").classList.toggle("unbalanced", !refused.hidden);
      }
    };
    form.addEventListener("input", update);
    // 再加一行: another line like the last, empty, numbered on (the server reads up to 20).
    const add = form.querySelector("button[data-add-line]");
    const body = form.querySelector("#entry-lines tbody");
    if (add && body) {
      add.hidden = false;
      add.addEventListener("click", () => {
        const rows = body.querySelectorAll("tr");
        if (rows.length >= 20) return;
        const row = rows[rows.length - 1].cloneNode(true);
        const n = rows.length;
        row.classList.remove("invalid");
        for (const e of row.querySelectorAll(".error")) e.remove();
        for (const e of row.querySelectorAll("select, input")) {
          e.name = e.name.replace(/_\d+$/, "_" + n);
          e.id = e.id.replace(/_\d+$/, "_" + n);
          e.value = "";
          if (e.getAttribute("aria-label")) e.setAttribute("aria-label", e.getAttribute("aria-label").replace(/\d+/, String(n + 1)));
        }
        body.appendChild(row);
        row.querySelector("select").focus();
      });
    }
  }
  for (const input of document.querySelectorAll("input[type=file][data-fill]")) {
    input.addEventListener("change", async () => {
      const file = input.files[0];
      if (file) document.getElementById(input.dataset.fill).value = await file.text();
    });
  }
});
