// Progressive enhancement only: every control works as a plain form without this file.
"use strict";

// A form that came back with errors: put the keyboard, and a screen reader, on the first
// field to fix; its label and its error (aria-describedby) are read out together. An
// error about the whole form ("That email and password do not match") names no field:
// focus goes to the message itself, read out, and Tab goes on into the form.
document.addEventListener("DOMContentLoaded", function () {
  var invalid = document.querySelector('[aria-invalid="true"]');
  var formError = document.querySelector(".form-errors");
  if (invalid) {
    invalid.focus();
  } else if (formError) {
    formError.tabIndex = -1;
    formError.focus();
  }
});

// A phone's header folds its links behind a Menu button (the stylesheet does the folding,
// under .js-menu, so without this script they stay in view). Escape closes it again and
// gives the button back its focus.
document.addEventListener("DOMContentLoaded", function () {
  var header = document.querySelector(".site-header");
  var button = header && header.querySelector(".menu-toggle");
  if (!button) {
    return;
  }
  function setOpen(open) {
    header.classList.toggle("menu-open", open);
    button.setAttribute("aria-expanded", open ? "true" : "false");
  }
  header.classList.add("js-menu");
  button.addEventListener("click", function () {
    setOpen(button.getAttribute("aria-expanded") !== "true");
  });
  header.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && header.classList.contains("menu-open")) {
      setOpen(false);
      button.focus();
    }
  });
});

// A message about the place the page opens at (a comment just posted, edited or reported:
// the address ends in its #id) is shown there, not at the top of a long page out of view,
// and gets focus: a screen reader reads it, and Tab goes on from the comment. A field to
// fix keeps focus (above).
function fragmentTarget() {
  try {
    return document.getElementById(decodeURIComponent(window.location.hash.slice(1)));
  } catch (malformed) {  // a "%" that starts no escape, typed or pasted into the address
    return null;
  }
}

document.addEventListener("DOMContentLoaded", function () {
  var flashes = document.querySelector(".flashes");
  var target = flashes && window.location.hash && fragmentTarget();
  var main = document.querySelector("main");
  if (!target || target === main || !main.contains(target)) {
    return;  // the skip link's own #main: the message is at the top of it already
  }
  if (target.tagName === "LI") {
    target.prepend(flashes);  // a list holds only items: the message goes inside the comment
  } else {
    target.before(flashes);
  }
  if (!document.querySelector('[aria-invalid="true"]')) {
    flashes.tabIndex = -1;
    // After the load: Chromium clears focus when it goes to the address's #id, then.
    window.addEventListener("load", function () { flashes.focus(); });
  }
});

// A source's image that no longer loads (hotlinked images die) leaves no empty frame: a
// card drops its picture, the article page its lead image (the credit line stays).
function hideBrokenImage(image) {
  var holder = image.closest(".article-card > a") || (image.closest(".lead-image") && image);
  if (holder) {
    holder.hidden = true;
  }
}

document.addEventListener("error", function (event) {
  if (event.target.tagName === "IMG") {
    hideBrokenImage(event.target);
  }
}, true);

document.addEventListener("DOMContentLoaded", function () {
  // Images that failed before this script ran (it is deferred) fired no event we saw;
  // decode() refuses exactly the broken ones among those done loading.
  document.querySelectorAll(".article-card img, .lead-image img").forEach(function (image) {
    if (image.complete && image.getAttribute("src")) {
      image.decode().catch(function () { hideBrokenImage(image); });
    }
  });
});

// A list's "select all" box (a review queue page of fifty): shown only where this script
// runs, since without it the box could do nothing.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll('[data-js="select-all"]').forEach(function (all) {
    var boxes = document.querySelectorAll('input[type="checkbox"][name="' + all.dataset.select + '"]');
    all.hidden = false;
    all.addEventListener("change", function () {
      boxes.forEach(function (box) { box.checked = all.checked; });
    });
  });
});

// A wide table's region (the scroll_table macro) is a tab stop only while columns lie out of
// view: a keyboard needs it to scroll them on a phone, but on a wide screen, where the table
// fits, it would be one more stop with nothing to do. Without this script it stays one.
document.addEventListener("DOMContentLoaded", function () {
  var regions = document.querySelectorAll(".table-scroll");
  function update() {
    regions.forEach(function (region) {
      var scrolls = region.scrollWidth > region.clientWidth &&
        window.getComputedStyle(region).overflowX !== "visible";
      if (scrolls) {
        region.tabIndex = 0;
      } else {
        region.removeAttribute("tabindex");
      }
    });
  }
  if (regions.length) {
    update();
    window.addEventListener("load", update);  // images and fonts can widen a table
    window.addEventListener("resize", update);
  }
});

// A form sent twice by a double click, or by a second click while the server is slow to
// answer, would change a password twice and send two "password changed" emails. Its
// buttons are disabled as it goes, in the submit event itself: once the request leaves,
// Chromium may run none of the page's scripts, and only the buttons' own state stops a
// second click. For a form that leaves the page where it is (a download) they come back
// after a few seconds. Listening on window, this runs after the document's listeners
// (community.js): a form whose question was answered No, or that a script sends itself,
// arrives here prevented and is left alone.
var RESEND_AFTER_MS = 5000;

function holdButtons(form, submitter) {
  // A disabled button is not sent with its form: the one pressed says what to do
  // ("preview" or "save"), so its name and value go in a hidden field instead.
  if (submitter && submitter.name) {
    var carried = document.createElement("input");
    carried.type = "hidden";
    carried.name = submitter.name;
    carried.value = submitter.value;
    carried.setAttribute("data-carried", "");
    form.append(carried);
  }
  // Only those enabled now are held, and later released: a button the page drew
  // disabled (a read-only member's Like) stays disabled.
  form.querySelectorAll("button[type=submit], button:not([type]), input[type=submit]")
    .forEach(function (button) {
      if (!button.disabled) {
        button.disabled = true;
        button.setAttribute("data-held", "");
      }
    });
}

function releaseButtons(form, submitter) {
  form.querySelectorAll("[data-carried]").forEach(function (carried) { carried.remove(); });
  form.querySelectorAll("[data-held]").forEach(function (button) {
    button.disabled = false;
    button.removeAttribute("data-held");
  });
  // Disabling the pressed button took the keyboard's focus from it; the page stayed (a
  // download), so it goes back where it was.
  if (submitter && document.activeElement === document.body && submitter.isConnected) {
    submitter.focus();
  }
}

window.addEventListener("submit", function (event) {
  var form = event.target;
  if (event.defaultPrevented || form.method.toLowerCase() !== "post") {
    return;
  }
  var submitter = event.submitter;
  holdButtons(form, submitter);
  window.setTimeout(function () { releaseButtons(form, submitter); }, RESEND_AFTER_MS);
});

// Back to a page the browser kept whole (its back-forward cache): its forms can go again.
window.addEventListener("pageshow", function (event) {
  if (event.persisted) {
    document.querySelectorAll("form").forEach(function (form) { releaseButtons(form, null); });
  }
});
