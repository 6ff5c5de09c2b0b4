// Community controls, progressively enhanced. Every form works without this file
// (a POST, then a redirect back); with it, likes, saves and follows update in place
// from the JSON the same endpoints return, and comment forms cannot be sent twice.
"use strict";

(function () {
  function post(form) {
    return fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) {
          var error = new Error(data.message || "That did not work. Please reload the page.");
          error.action = data.action || "";
          error.link = linkFor(data);
          throw error;
        }
        return data;
      });
    });
  }

  // Where the member can put a refusal right: a session that ended elsewhere is mended
  // by logging in (and coming back here), a refusal by the membership policy in settings.
  function linkFor(data) {
    if (data.login) {
      return { href: data.login, text: "Log in again" };
    }
    if (data.reason) {
      return { href: data.settings || "/settings", text: "Open Profile Settings" };
    }
    return null;
  }

  function showError(form, error) {
    // Under the row of buttons, not between them: a sentence there pulls the row apart.
    var row = form.closest(".reactions") || form;
    var note = row.nextElementSibling;
    if (!note || !note.classList.contains("js-error")) {
      note = document.createElement("p");
      note.className = "js-error";
      note.setAttribute("role", "alert");
      row.insertAdjacentElement("afterend", note);
    }
    note.textContent = error.action ? error.message + " " + error.action : error.message;
    if (error.link) {
      var link = document.createElement("a");
      link.href = error.link.href;
      link.textContent = error.link.text;
      note.append(" ", link);
    }
  }

  function updateState(form, data) {
    var button = form.querySelector("button");
    var on = Boolean(data.on);
    form.querySelector("input[name=state]").value = on ? "off" : "on";
    button.setAttribute("aria-pressed", on ? "true" : "false");
    // The label stays as it is: aria-pressed and the "on" look say the state.
    button.classList.toggle("on", on);
    var count = form.querySelector("[data-count]");
    if (count && typeof data.count === "number") {
      count.textContent = String(data.count);
    }
  }

  function onStateSubmit(event) {
    var form = event.target;
    event.preventDefault();
    // A pending mark, not `disabled`: disabling the focused button would drop keyboard
    // focus to the page, and a screen reader would lose its place and the new state.
    if (form.dataset.pending) {
      return;
    }
    form.dataset.pending = "true";
    form.querySelector("button").setAttribute("aria-busy", "true");
    post(form)
      .then(function (data) {
        updateState(form, data);
        if (form.closest("[data-reload-after-change]")) {
          // The page lists what the change affects (For you: the followed topics'
          // articles), so it is drawn again, with focus back on the same button.
          window.sessionStorage.setItem(REFOCUS, form.getAttribute("action"));
          window.location.reload();
        }
      })
      .catch(function (error) { showError(form, error); })
      .finally(function () {
        delete form.dataset.pending;
        form.querySelector("button").removeAttribute("aria-busy");
      });
  }

  // A comment of spaces is said to be empty by the box itself, as an empty one is (the
  // browser's "required"), instead of on a separate page after the round trip.
  function refuseBlank(body, event) {
    if (body.value.trim() !== "") {
      body.setCustomValidity("");
      return false;
    }
    var doing = body.form.action.indexOf("/edit") !== -1 ? "saving" : "posting";
    body.setCustomValidity("Write something before " + doing + ": the comment is empty.");
    body.reportValidity();
    body.addEventListener("input", function () { body.setCustomValidity(""); }, { once: true });
    event.preventDefault();
    return true;
  }

  function onCommentSubmit(event) {
    var text = event.target.querySelector("textarea[name=body]");
    if (text && refuseBlank(text, event)) {
      return;
    }
    // A double click sends the form once; the server's form nonce covers the rest.
    var button = event.target.querySelector("button[type=submit]");
    if (button) {
      window.setTimeout(function () { button.disabled = true; }, 0);
    }
  }

  function markNotificationsRead(form) {
    if (form.querySelector("button").disabled) {
      return;
    }
    post(form).then(function (data) {
      // The header's count, and its copy on a phone's Menu button.
      document.querySelectorAll("[data-unread], [data-unread-menu]").forEach(function (badge) {
        if (data.unread === 0) {
          badge.remove();
        } else {
          badge.querySelector("[data-number]").textContent = String(data.unread);
        }
      });
      // Done: the "new" marks stay for this visit, the button that would do it again goes.
      if (data.unread === 0) {
        form.remove();
      }
    }).catch(function () { /* the button still works */ });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    // One button of several may be the drastic one ("End membership now"): it asks itself.
    var question = (event.submitter && event.submitter.dataset.confirm) || form.dataset.confirm;
    // Ask only about a form that can go through: a missing field (a freeze's reason) is
    // the server's to explain first, not after "Freeze @name?" was already answered.
    if (question && form.checkValidity() && !window.confirm(question)) {
      event.preventDefault();
      return;
    }
    if (form.dataset.js === "state") {
      onStateSubmit(event);
    } else if (form.dataset.js === "comment") {
      onCommentSubmit(event);
    }
  });

  var REFOCUS = "community:refocus";

  function refocusAfterReload() {
    var action = window.sessionStorage.getItem(REFOCUS);
    window.sessionStorage.removeItem(REFOCUS);
    var forms = document.querySelectorAll("form[data-js=state]");
    for (var i = 0; i < forms.length; i += 1) {
      if (forms[i].getAttribute("action") === action) {
        forms[i].querySelector("button").focus();
      }
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    refocusAfterReload();
    var form = document.querySelector("form[data-js=mark-read]");
    if (form) {
      markNotificationsRead(form);
    }
  });
})();
