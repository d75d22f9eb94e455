// GOV.UK Frontend's components, started as its documentation shows; the pages work without it.
import { initAll } from "/assets/govuk-frontend.min.js";

initAll();
