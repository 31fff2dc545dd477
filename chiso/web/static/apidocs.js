/* /docs: Swagger UI from the package's own copy (static/vendor/swagger), reading chiso's
 * OpenAPI description. No CDN: provincial networks are often offline. */
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  window.ui = window.SwaggerUIBundle({
    url: root.dataset.openapi,
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
})();
