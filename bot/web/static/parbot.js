// parbot web companion: small progressive enhancements only; every page works without this.
document.addEventListener("submit", (event) => {
  // One press sends once. Disabled only after the browser has read the form: a button
  // disabled during this event would leave out its own name and value (Đạt / Trả lại).
  const buttons = event.target.querySelectorAll("button[type=submit]");
  setTimeout(() => buttons.forEach((button) => { button.disabled = true; }), 0);
});
