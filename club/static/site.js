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
