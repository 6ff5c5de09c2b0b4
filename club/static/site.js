// Progressive enhancement only: every control works as a plain form without this file.
"use strict";

// A form that came back with errors: put the keyboard, and a screen reader, on the first
// field to fix; its label and its error (aria-describedby) are read out together.
document.addEventListener("DOMContentLoaded", function () {
  var invalid = document.querySelector('[aria-invalid="true"]');
  if (invalid) {
    invalid.focus();
  }
});
