// parbot web companion: small progressive enhancements only; every page works without this.
document.addEventListener("submit", (event) => {
  const button = event.target.querySelector("button[type=submit]");
  if (button) { button.disabled = true; }  // one press sends once
});
