// /docs: Swagger UI served by mamori itself (no CDN); the spec is the app's own /openapi.json.
window.addEventListener("load", function () {
  "use strict";
  window.SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui" });
});
