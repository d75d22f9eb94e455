// The timeout warning: a modal dialog on the page itself shortly before an idle session ends, so
// that staying signed in never takes anyone away from what they have typed. It follows the GOV.UK
// community's timeout warning pattern: focus moves into the dialog and stays there, Escape or
// "Stay signed in" renews the session, screen readers hear the time left now and then rather than
// every second, and at the end the page is replaced by the sign-in page.

const STATUS_URL = "/session/status";

class TimeoutWarning {
  constructor(dialog) {
    const data = dialog.dataset;
    this.dialog = dialog;
    this.warnMs = Number(data.warnSeconds) * 1000;
    this.deadline = Date.now() + Number(data.secondsLeft) * 1000;
    this.sentence = data.sentence;
    this.forms = { minutes: JSON.parse(data.minutes), seconds: JSON.parse(data.seconds) };
    this.plurals = new Intl.PluralRules(document.documentElement.lang || "en");
    this.signedOut = data.signedOut;
    this.part = (name) => dialog.querySelector(`.app-timeout-warning__${name}`);
    this.timer = 0;
    this.ticker = 0;
    this.mark = 0;
    this.returnTo = null;
    this.busy = false;
  }

  start() {
    this.part("stay").addEventListener("submit", (event) => {
      event.preventDefault();
      this.stay();
    });
    // Escape means "stay signed in", never "close and let the session end unseen".
    this.dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      this.stay();
    });
    this.dialog.addEventListener("keydown", (event) => this.keep(event));
    // A page restored from the back-forward cache kept its old timers' idea of the time.
    window.addEventListener("pageshow", (event) => event.persisted && this.check());
    this.schedule();
  }

  schedule() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.check(), Math.max(0, this.deadline - this.warnMs - Date.now()));
  }

  // Work in another tab may have renewed the session: ask the server before warning or signing out.
  async check() {
    const seconds = await this.secondsLeft();
    if (seconds !== null) this.deadline = Date.now() + seconds * 1000;
    const left = this.deadline - Date.now();
    if (left <= 0) return this.signOut();
    if (left > this.warnMs + 1000) {
      this.close();
      this.schedule();
    } else {
      this.open();
    }
  }

  async secondsLeft() {
    try {
      const response = await fetch(STATUS_URL, { headers: { Accept: "application/json" } });
      return response.ok ? (await response.json()).seconds_left : null;
    } catch {
      return null;
    }
  }

  open() {
    if (!this.dialog.open) {
      this.returnTo = document.activeElement;
      this.mark = 0;
      this.dialog.setAttribute("aria-labelledby", "timeout-warning-heading");
      this.dialog.setAttribute("aria-describedby", "timeout-warning-text");
      this.dialog.showModal();
      this.part("announce").textContent = "";
      this.tick();
      this.part("heading").focus();
    }
    clearInterval(this.ticker);
    this.ticker = setInterval(() => this.tick(), 1000);
  }

  close() {
    clearInterval(this.ticker);
    if (!this.dialog.open) return;
    this.dialog.close();
    this.dialog.removeAttribute("aria-labelledby");
    this.dialog.removeAttribute("aria-describedby");
    if (this.returnTo && this.returnTo.isConnected) this.returnTo.focus({ preventScroll: true });
  }

  tick() {
    const seconds = Math.ceil((this.deadline - Date.now()) / 1000);
    if (seconds <= 0) {
      clearInterval(this.ticker);
      this.check();
      return;
    }
    this.part("countdown").textContent = this.say(seconds);
    // Spoken at each whole minute, then every 20 seconds in the last minute.
    const step = seconds > 60 ? 60 : 20;
    const mark = Math.ceil(seconds / step) * step;
    if (mark === this.mark) return;
    const first = this.mark === 0;
    this.mark = mark;
    this.part("spoken").textContent = this.say(mark);
    if (!first) this.part("announce").textContent = this.say(mark);
  }

  say(seconds) {
    const [unit, count] = seconds >= 60 ? ["minutes", Math.ceil(seconds / 60)] : ["seconds", seconds];
    const forms = this.forms[unit];
    const words = (forms[this.plurals.select(count)] || forms.other).replace("{n}", String(count));
    return this.sentence.replace("{time}", words);
  }

  async stay() {
    if (this.busy) return;
    this.busy = true;
    const form = this.part("stay");
    try {
      const response = await fetch(form.action, {
        method: "POST",
        body: new URLSearchParams(new FormData(form)),
        headers: { Accept: "application/json" },
        redirect: "manual",
      });
      if (!response.ok) return this.check();
      this.deadline = Date.now() + (await response.json()).seconds_left * 1000;
      this.close();
      this.schedule();
    } catch {
      this.check();
    } finally {
      this.busy = false;
    }
  }

  // Focus stays in the dialog: Tab from its last control goes to its first, and back.
  keep(event) {
    if (event.key !== "Tab") return;
    const controls = [...this.dialog.querySelectorAll("button")];
    const first = controls[0];
    const last = controls[controls.length - 1];
    const at = document.activeElement;
    if (event.shiftKey && (at === first || at === this.part("heading"))) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && at === last) {
      event.preventDefault();
      first.focus();
    }
  }

  signOut() {
    clearInterval(this.ticker);
    clearTimeout(this.timer);
    window.location.assign(this.signedOut);
  }
}

const dialog = document.getElementById("timeout-warning");
if (dialog instanceof HTMLDialogElement) new TimeoutWarning(dialog).start();
