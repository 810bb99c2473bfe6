// Notes: small enhancements on top of pages that work without JavaScript.
// Loaded with `defer` under a CSP that allows scripts from this site only, so
// nothing here may rely on inline handlers or inline styles.
(function () {
  "use strict";

  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  // One polite live region made at load, so later messages are announced.
  let live = null;
  function announce(text) {
    if (!live) return;
    live.textContent = "";
    window.setTimeout(function () { live.textContent = text; }, 50);
  }

  function flash(text, category) {
    const box = document.getElementById("flashes");
    if (!box) { window.alert(text); return; }
    const p = document.createElement("p");
    p.className = "flash flash-" + (category || "error");
    p.textContent = text;
    box.replaceChildren(p);
  }

  // ---- confirmations ------------------------------------------------------
  // Buttons with data-confirm ask first. Capturing on document runs before
  // htmx's own listener on the form, so a "Cancel" stops both paths.
  document.addEventListener("submit", function (event) {
    const button = event.submitter;
    const message = (button && button.dataset.confirm) || event.target.dataset.confirm;
    if (message && !window.confirm(message)) {
      event.preventDefault();
      event.stopPropagation();
    }
  }, true);

  // ---- leaving an edit form -----------------------------------------------
  function formState(form) {
    return new URLSearchParams(new FormData(form)).toString();
  }

  function setupDirtyCheck(root) {
    root.querySelectorAll("form[data-dirty-check]").forEach(function (form) {
      if (form.dataset.initial !== undefined) return;
      form.dataset.initial = formState(form);
      form.addEventListener("submit", function () { form.dataset.submitting = "1"; });
    });
  }

  function isDirty(form) {
    if (form.dataset.submitting) return false;
    // After an edit conflict the text in the form was never saved.
    return form.hasAttribute("data-unsaved") || (form.dataset.initial !== undefined && formState(form) !== form.dataset.initial);
  }

  // A click on Cancel (or Esc) with unsaved text asks before throwing it away.
  function leaveEditForm(link) {
    const form = link.closest("form") || document.querySelector("form[data-dirty-check]");
    if (form && isDirty(form) && !window.confirm("Leave without saving? Your changes will be lost.")) return;
    window.location.assign(link.href);
  }

  document.addEventListener("click", function (event) {
    const link = event.target.closest && event.target.closest('a[data-key="Escape"]');
    if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    leaveEditForm(link);
  });

  // ---- drafts ---------------------------------------------------------------
  // A form with data-draft keeps its unsaved text in this browser's
  // localStorage, so a closed tab or a crash does not lose it: per user
  // (another account on this browser never sees it), gone once the form is
  // sent, discarded or DRAFT_DAYS old, and at logout.
  const DRAFT_PREFIX = "notes-draft:";
  const DRAFT_DAYS = 7;

  function draftKey(form) {
    const user = document.querySelector('meta[name="notes-user"]');
    return user ? DRAFT_PREFIX + user.content + ":" + form.dataset.draft : null;
  }

  function draftFields(form) {
    return Array.from(form.querySelectorAll("input[type=text], input:not([type]), textarea"))
      .filter(function (el) { return el.name; });
  }

  function readDraft(key) {
    try {
      const draft = JSON.parse(window.localStorage.getItem(key) || "null");
      if (draft && Date.now() - draft.at < DRAFT_DAYS * 864e5) return draft;
      window.localStorage.removeItem(key);
    } catch (e) { /* storage off or a broken entry: no draft */ }
    return null;
  }

  function writeDraft(key, form) {
    const values = {};
    let typed = false;
    draftFields(form).forEach(function (el) {
      values[el.name] = el.value;
      if (el.value !== el.defaultValue) typed = true;
    });
    try {
      if (typed) window.localStorage.setItem(key, JSON.stringify({ at: Date.now(), values: values }));
      else window.localStorage.removeItem(key);
    } catch (e) { /* full or off: the form still works */ }
  }

  function dropDraft(key) {
    try { window.localStorage.removeItem(key); } catch (e) { /* nothing kept */ }
  }

  function offerDraft(form, key, draft) {
    const differs = draftFields(form).some(function (el) {
      return draft.values[el.name] !== undefined && draft.values[el.name] !== el.value;
    });
    if (!differs) return;
    const bar = document.createElement("div");
    bar.className = "draft-bar";
    bar.setAttribute("role", "status");
    const text = document.createElement("p");
    text.textContent = "You have unsaved text here from " + new Date(draft.at).toLocaleString() + ".";
    const restore = document.createElement("button");
    restore.type = "button";
    restore.textContent = "Restore it";
    const discard = document.createElement("button");
    discard.type = "button";
    discard.textContent = "Discard it";
    restore.addEventListener("click", function () {
      draftFields(form).forEach(function (el) {
        if (draft.values[el.name] !== undefined) {
          el.value = draft.values[el.name];
          el.dispatchEvent(new Event("input", { bubbles: true }));
        }
      });
      bar.remove();
      const first = draftFields(form)[0];
      if (first) first.focus();
    });
    discard.addEventListener("click", function () { dropDraft(key); bar.remove(); });
    bar.append(text, restore, discard);
    form.prepend(bar);
  }

  function setupDrafts(root) {
    const forms = [];
    if (root.matches && root.matches("form[data-draft]")) forms.push(root);
    root.querySelectorAll("form[data-draft]").forEach(function (f) { forms.push(f); });
    forms.forEach(function (form) {
      const key = draftKey(form);
      if (!key || form.dataset.draftReady) return;
      form.dataset.draftReady = "1";
      const draft = readDraft(key);
      if (draft) offerDraft(form, key, draft);
      let timer = 0;
      form.addEventListener("input", function () {
        window.clearTimeout(timer);
        timer = window.setTimeout(function () { writeDraft(key, form); }, 300);
      });
      // Sent: the server has the text now (a refusal shows it again in the form).
      form.addEventListener("submit", function (event) {
        const submitter = event.submitter;
        if (submitter && submitter.name === "preview") return;
        window.clearTimeout(timer);
        dropDraft(key);
      });
    });
  }

  document.addEventListener("submit", function (event) {
    if (!event.target.matches('form[action$="/auth/logout"]')) return;
    try {
      Object.keys(window.localStorage).forEach(function (k) {
        if (k.indexOf(DRAFT_PREFIX) === 0) window.localStorage.removeItem(k);
      });
    } catch (e) { /* nothing kept */ }
  });

  // ---- keyboard shortcuts -------------------------------------------------
  // n new note · / search · e edit · Esc leave a form or the search box.
  // Letters never fire while typing in a field.
  function isTyping(el) {
    return !!(el && el.closest && el.closest('input, textarea, select, [contenteditable=""], [contenteditable="true"]'));
  }

  document.addEventListener("keydown", function (event) {
    // Ctrl+Enter (Cmd+Enter on a Mac) saves the form being typed in.
    if ((event.ctrlKey || event.metaKey) && event.key === "Enter" && !event.altKey && !event.isComposing) {
      const form = event.target.closest && event.target.closest("form[data-draft]");
      if (form) { event.preventDefault(); form.requestSubmit(); }
      return;
    }
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
    const target = event.target;
    if (event.key === "Escape") {
      if (target && target.id === "q") { target.blur(); return; }
      const cancel = document.querySelector('a[data-key="Escape"]');
      if (cancel) { event.preventDefault(); leaveEditForm(cancel); return; }
      if (isTyping(target)) target.blur();
      return;
    }
    if (isTyping(target)) return;
    if (event.key === "/") {
      const search = document.getElementById("q");
      if (search) { event.preventDefault(); search.focus(); search.select(); }
      return;
    }
    if (event.key === "n" || event.key === "e") {
      const link = document.querySelector('[data-key="' + event.key + '"]');
      if (link) { event.preventDefault(); link.click(); }
    }
  });

  // ---- task lists -----------------------------------------------------------
  // The server renders task boxes disabled and unlabelled (its sanitizer keeps
  // only type/checked/disabled). Here each gets its item's text as its name
  // and, on a note that can change, ticks it on the server.
  function itemText(item) {
    const copy = item.cloneNode(true);
    copy.querySelectorAll("ul, ol, input").forEach(function (el) { el.remove(); });
    return copy.textContent.replace(/\s+/g, " ").trim();
  }

  function setupTasks(root) {
    const articles = [];
    if (root.matches && root.matches("article[data-tasks-url]")) articles.push(root);
    root.querySelectorAll("article[data-tasks-url]").forEach(function (a) { articles.push(a); });
    articles.forEach(function (article) {
      if (article.dataset.tasksReady) return;
      article.dataset.tasksReady = "1";
      const boxes = Array.from(article.querySelectorAll(".markdown input[type=checkbox]"));
      boxes.forEach(function (box, index) {
        const item = box.closest("li");
        box.setAttribute("aria-label", (item && itemText(item)) || "Task " + (index + 1));
        if (!article.dataset.tasksUrl) return; // a trashed note: read only
        box.disabled = false;
        box.addEventListener("change", function () { toggleTask(article, boxes, box, index); });
      });
    });
  }

  function taskMessage(article, text, withReload) {
    const box = article.querySelector(".task-message");
    if (!box) { flash(text); return; }
    box.replaceChildren(document.createTextNode(text + " "));
    if (withReload) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = "Reload the note";
      button.addEventListener("click", function () { window.location.reload(); });
      box.appendChild(button);
    }
  }

  async function toggleTask(article, boxes, box, index) {
    const body = new FormData();
    body.append("version", article.dataset.version || "");
    body.append("csrf_token", csrfToken());
    boxes.forEach(function (b) { b.disabled = true; });
    let keepDisabled = false;
    try {
      const response = await fetch(article.dataset.tasksUrl + index, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "X-Requested-With": "fetch", "X-CSRFToken": csrfToken() },
      });
      if (response.ok) {
        const data = await response.json();
        article.dataset.version = String(data.version);
        taskMessage(article, "");
        announce(box.checked ? "Ticked." : "Unticked.");
      } else {
        box.checked = !box.checked;
        if (response.status === 409) {
          keepDisabled = true;
          taskMessage(article, "This note was changed somewhere else, so your tick was not saved. " +
            "Reload the note to see the latest version, then try again.", true);
        } else if (response.status === 404) {
          keepDisabled = true;
          taskMessage(article, "That task is no longer in the note.", true);
        } else {
          taskMessage(article, "Your tick could not be saved (error " + response.status + "). Please try again.");
        }
      }
    } catch (err) {
      box.checked = !box.checked;
      taskMessage(article, "Notes could not be reached, so your tick was not saved. Check your connection and try again.");
    } finally {
      if (!keepDisabled) boxes.forEach(function (b) { b.disabled = false; });
    }
  }

  // ---- htmx glue ----------------------------------------------------------
  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRFToken"] = csrfToken();
  });

  // Forms answer with a redirect to a whole page, cut down by hx-select to the
  // region being replaced. When that region is missing (a login page after the
  // session ended, an error page), swapping would blank the region: go to the
  // page instead, or show the error's message.
  document.addEventListener("htmx:beforeSwap", function (event) {
    const detail = event.detail;
    const elt = detail.requestConfig && detail.requestConfig.elt;
    const host = elt && elt.closest("[hx-select]");
    const selector = host && host.getAttribute("hx-select");
    if (!selector) return;
    const doc = new DOMParser().parseFromString(detail.serverResponse || "", "text/html");
    if (doc.querySelector(selector)) {
      if (detail.xhr.status >= 400) { detail.shouldSwap = true; detail.isError = false; }
      return;
    }
    detail.shouldSwap = false;
    if (detail.xhr.status < 400 && detail.xhr.responseURL) {
      window.location.assign(detail.xhr.responseURL);
      return;
    }
    const heading = doc.querySelector("main h1");
    const reason = doc.querySelector("main .card p");
    flash([heading && heading.textContent, reason && reason.textContent].filter(Boolean).join(": ") ||
      "Something went wrong (error " + detail.xhr.status + "). Reload the page and try again.");
  });

  document.addEventListener("htmx:sendError", function () {
    flash("Notes could not be reached. Check your connection and try again.");
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    const count = document.getElementById("result-count");
    const elt = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (elt && elt.matches && elt.matches("form.search")) {
      announce(count ? count.textContent : "Showing every note.");
    }
    // The button that was pressed may be gone (an archived note leaves the
    // list): keep keyboard users in the page, not back at its top.
    if (!document.activeElement || document.activeElement === document.body) {
      const heading = document.querySelector("main h1");
      if (heading) { heading.tabIndex = -1; heading.focus({ preventScroll: true }); }
    }
  });

  // ---- files: picked, dropped or pasted into the editor ------------------
  // Without a script the upload form posts and the page reloads (the list shows
  // each file's Markdown to copy). With one, the file goes in the background and
  // its Markdown lands at the cursor, so the text being written is never left.
  function insertAtCursor(textarea, text) {
    const start = textarea.selectionStart;
    const before = textarea.value.slice(0, start);
    const after = textarea.value.slice(textarea.selectionEnd);
    // A paragraph of its own: a blank line before and after, unless the text ends or starts there.
    const lead = !before || before.endsWith("\n\n") ? "" : before.endsWith("\n") ? "\n" : "\n\n";
    const trail = !after ? "\n" : after.startsWith("\n\n") ? "" : after.startsWith("\n") ? "\n" : "\n\n";
    textarea.value = before + lead + text + trail + after;
    const caret = (before + lead + text + trail).length;
    textarea.setSelectionRange(caret, caret);
    // The preview, the draft and the unsaved-changes check all listen for input.
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function uploadFile(form, file, textarea) {
    const status = form.querySelector(".upload-status");
    const max = Number(form.dataset.maxBytes);
    if (max && file.size > max) {
      status.textContent = file.name + " is larger than " + form.dataset.max + "; attach a smaller one.";
      return Promise.resolve();
    }
    status.textContent = "Attaching " + file.name + "…";
    const body = new FormData();
    body.append("file", file, file.name);
    body.append("csrf_token", csrfToken());
    return fetch(form.action, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": csrfToken() },
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          status.textContent = data.detail || ("The file was not attached (" + response.status + ").");
          return;
        }
        if (textarea) insertAtCursor(textarea, data.markdown);
        status.textContent = "Attached " + data.filename + ".";
      });
    }).catch(function () {
      status.textContent = "Notes could not be reached. Check your connection and try again.";
    });
  }

  function setupUploads(root) {
    const form = root.querySelector ? root.querySelector("form[data-upload]") : null;
    if (!form || form.dataset.ready) return;
    form.dataset.ready = "1";
    const textarea = document.getElementById("content");
    const input = form.querySelector('input[type="file"]');
    form.addEventListener("submit", function (event) {
      if (!input.files.length) return;  // the server says "Choose a file"
      event.preventDefault();
      uploadFile(form, input.files[0], textarea).then(function () { input.value = ""; });
    });
    if (!textarea) return;
    function filesOf(transfer) { return transfer ? Array.from(transfer.files || []) : []; }
    textarea.addEventListener("paste", function (event) {
      const files = filesOf(event.clipboardData);
      if (!files.length) return;  // plain text pastes as usual
      event.preventDefault();
      files.forEach(function (file) { uploadFile(form, file, textarea); });
    });
    textarea.addEventListener("dragover", function (event) {
      if (event.dataTransfer && Array.from(event.dataTransfer.types).indexOf("Files") !== -1) event.preventDefault();
    });
    textarea.addEventListener("drop", function (event) {
      const files = filesOf(event.dataTransfer);
      if (!files.length) return;
      event.preventDefault();
      files.forEach(function (file) { uploadFile(form, file, textarea); });
    });
  }

  function setup(root) {
    setupTasks(root);
    setupDirtyCheck(root);
    setupDrafts(root);
    setupUploads(root);
  }

  document.addEventListener("htmx:load", function (event) { setup(event.target); });

  function init() {
    live = document.createElement("p");
    live.className = "visually-hidden";
    live.setAttribute("role", "status");
    live.id = "live";
    (document.getElementById("main") || document.body).appendChild(live);
    setup(document);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
