/* Camera scanning of GS1 DataMatrix and GS1-128 into a scan field (receiving, picking, packing,
   shipping). The decoder is @zxing/browser (npm, served from node_modules at /vendor, no CDN).
   A button [data-camera-scan="FIELD-ID"] opens the camera; the first code read is written into
   the field as a GS1 element string (symbology identifier ]d2 for DataMatrix, ]C1 for GS1-128;
   FNC1 separators arrive as GS characters) and its form is submitted — exactly what a
   keyboard-wedge scanner would have typed. Without a camera or the library the button says so
   and the scan field keeps working. */
(function () {
  "use strict";
  var DATA_MATRIX = 5, CODE_128 = 4; // @zxing/library BarcodeFormat values

  function elementString(text, format) {
    if (!text || text.charAt(0) === "]" || text.charAt(0) === "(" || /^https?:/i.test(text)) {
      return text;
    }
    if (format === DATA_MATRIX) { return "]d2" + text; }
    if (format === CODE_128) { return "]C1" + text; }
    return text;
  }

  function setup(button) {
    var field = document.getElementById(button.getAttribute("data-camera-scan"));
    var panel = document.getElementById(button.getAttribute("aria-controls"));
    if (!field || !panel) { return; }
    var video = panel.querySelector("video");
    var status = panel.querySelector("[data-camera-status]");
    var controls = null;

    function stop() {
      if (controls) { controls.stop(); controls = null; }
      panel.hidden = true;
      button.setAttribute("aria-expanded", "false");
    }

    button.addEventListener("click", function () {
      if (controls) { stop(); field.focus(); return; }
      if (!window.ZXingBrowser || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
        status.textContent = button.getAttribute("data-unavailable");
        panel.hidden = false;
        return;
      }
      panel.hidden = false;
      button.setAttribute("aria-expanded", "true");
      status.textContent = button.getAttribute("data-aim");
      var reader = new window.ZXingBrowser.BrowserMultiFormatReader();
      reader.decodeFromVideoDevice(undefined, video, function (result, error, c) {
        if (!result) { return; }
        c.stop();
        controls = null;
        field.value = elementString(result.getText(), result.getBarcodeFormat());
        panel.hidden = true;
        button.setAttribute("aria-expanded", "false");
        if (field.form) {
          if (field.form.requestSubmit) { field.form.requestSubmit(); } else { field.form.submit(); }
        }
      }).then(function (c) { controls = c; }).catch(function () {
        status.textContent = button.getAttribute("data-unavailable");
      });
    });
  }

  function init() {
    var buttons = document.querySelectorAll("[data-camera-scan]");
    for (var i = 0; i < buttons.length; i++) { setup(buttons[i]); }
    window.medledgerCameraScan = { ready: true, elementString: elementString };
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
