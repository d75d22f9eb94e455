// GOV.UK Frontend's page set-up: styles for script-enhanced components apply only where they will work.
document.body.className += " js-enabled" + ("noModule" in HTMLScriptElement.prototype ? " govuk-frontend-supported" : "");
