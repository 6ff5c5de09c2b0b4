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
