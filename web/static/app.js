// Vigo web UI behaviour that HTML cannot express on its own. Loaded from /static (the
// Content-Security-Policy forbids inline scripts); every page works without it, only less smoothly.
/* global window, document */
(function () {
  'use strict';

  // Destructive forms carry data-confirm: ask before they are sent (keyboard users get the same dialog).
  document.addEventListener(
    'submit',
    function (event) {
      var form = event.target;
      if (!(form instanceof window.HTMLFormElement)) return;
      var message = form.getAttribute('data-confirm');
      if (message && !window.confirm(message)) {
        event.preventDefault();
        event.stopImmediatePropagation();
      }
    },
    true,
  );

  // Copy buttons: data-copy names a field (one-time secrets, commands), data-copy-text holds the value
  // itself (hashes shown shortened).
  document.addEventListener('click', function (event) {
    var button =
      event.target instanceof window.Element ? event.target.closest('[data-copy], [data-copy-text]') : null;
    if (!button) return;
    var text = button.getAttribute('data-copy-text');
    if (text === null) {
      var field = document.querySelector(button.getAttribute('data-copy'));
      if (!(field instanceof window.HTMLInputElement || field instanceof window.HTMLTextAreaElement)) return;
      field.select();
      text = field.value;
    }
    if (window.navigator.clipboard) {
      window.navigator.clipboard.writeText(text).then(function () {
        button.textContent = 'Copied';
      });
    }
  });

  // Live dashboard: refresh the counters when the fleet or the config changes, at most once a second.
  function followEvents() {
    var live = document.querySelector('[data-live-events]');
    if (!live || !window.EventSource || !window.htmx) return;
    var source = new window.EventSource(live.getAttribute('data-live-events'));
    var timer = null;
    var refresh = function () {
      if (timer !== null) return;
      timer = window.setTimeout(function () {
        timer = null;
        var counters = document.getElementById('dashboard-counters');
        if (counters) window.htmx.trigger(counters, 'refresh');
      }, 1000);
    };
    [
      'envoy.enrolled',
      'envoy.revoked',
      'envoy.stale',
      'envoy.online',
      'envoy.push_requested',
      'config.published',
      'config.pending',
      'config.approved',
      'config.rejected',
      'config.rolled_back',
    ].forEach(function (type) {
      source.addEventListener(type, refresh);
    });
    window.addEventListener('pagehide', function () {
      source.close();
    });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', followEvents);
  else followEvents();
})();
