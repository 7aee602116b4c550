// Small comforts on top of htmx. Every page works without this file.
(function () {
  "use strict";

  // The browser's time zone, so times are shown in it until the person picks one on the
  // account page (core/middleware.py reads this cookie).
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    var known = document.cookie.match(/(?:^|; )shipcheck_tz=([^;]*)/);
    if (zone && (!known || decodeURIComponent(known[1]) !== zone)) {
      document.cookie = "shipcheck_tz=" + encodeURIComponent(zone) + "; path=/; max-age=31536000; samesite=lax";
    }
  } catch (e) { /* no Intl: the site's zone it is */ }

  // Tell the person when an htmx request was refused or failed, instead of doing nothing.
  function toast(text, kind) {
    var box = document.getElementById("toast");
    if (!box) return;
    box.textContent = text;
    box.className = "toast toast-" + (kind || "error");
    box.hidden = false;
    clearTimeout(box._timer);
    box._timer = setTimeout(function () { box.hidden = true; }, 6000);
  }

  var MESSAGES = {
    403: "You may not do this: your roles in this project do not allow it.",
    404: "That no longer exists, or you cannot see it.",
    413: "That was too large to send.",
  };

  // A refusal page names its reason in [data-refusal]; show that sentence rather than a generic one.
  function refusalReason(xhr) {
    var type = xhr.getResponseHeader("Content-Type") || "";
    if (type.indexOf("text/html") === -1 || !xhr.responseText) return "";
    var found = new DOMParser().parseFromString(xhr.responseText, "text/html").querySelector("[data-refusal]");
    return found ? found.textContent.trim() : "";
  }

  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var status = xhr.status;
    toast(refusalReason(xhr) || MESSAGES[status] || "Something went wrong (" + status + "). Nothing was changed; try again.");
  });
  document.addEventListener("htmx:sendError", function () {
    toast("Shipcheck could not be reached. Check your connection and try again.");
  });

  // Dismiss buttons on alerts.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-dismiss]");
    if (button) {
      var alert = button.closest(".alert");
      if (alert) alert.remove();
      return;
    }
    // Close open menus and popovers when clicking elsewhere.
    document.querySelectorAll("details.usermenu[open], details.popover[open]").forEach(function (details) {
      if (!details.contains(event.target)) details.removeAttribute("open");
    });
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    document.querySelectorAll("details.usermenu[open], details.popover[open]").forEach(function (details) {
      details.removeAttribute("open");
    });
  });
})();
