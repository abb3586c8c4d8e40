// Starts Swagger UI on /api/v1/docs from our own origin (no CDN, no inline script: CSP is 'self').
// Requests made from the page carry the session cookie, so writes also send the CSRF token;
// requests authorised with a Bearer token in "Authorize" need none.
(function () {
  "use strict";
  function meta(name) {
    var el = document.querySelector('meta[name="' + name + '"]');
    return el ? el.getAttribute("content") : "";
  }
  window.addEventListener("load", function () {
    window.ui = SwaggerUIBundle({
      url: meta("openapi-url"),
      dom_id: "#swagger-ui",
      deepLinking: true,
      validatorUrl: null,
      presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
      layout: "BaseLayout",
      requestInterceptor: function (req) {
        var method = (req.method || "GET").toUpperCase();
        if (method !== "GET" && method !== "HEAD" && method !== "OPTIONS") {
          req.headers["X-CSRFToken"] = meta("csrf-token");
        }
        return req;
      },
    });
  });
})();
