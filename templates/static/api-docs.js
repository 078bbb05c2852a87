// Starts Swagger UI (/docs) or ReDoc (/redoc) from the app's own copies (static/vendor/). An external
// file, as the Content-Security-Policy allows no inline script.
"use strict";

(() => {
  const swagger = document.getElementById("swagger-ui");
  if (swagger) {
    window.ui = window.SwaggerUIBundle({
      url: swagger.dataset.openapi,
      domNode: swagger,
      layout: "BaseLayout",
      deepLinking: false, // with it, each operation's path is a link inside its button (nested controls)
      showExtensions: true,
      showCommonExtensions: true,
      validatorUrl: null, // the default sends the schema to an online validator
      presets: [window.SwaggerUIBundle.presets.apis, window.SwaggerUIBundle.SwaggerUIStandalonePreset],
    });
  }
  const redoc = document.getElementById("redoc");
  if (redoc) window.Redoc.init(redoc.dataset.openapi, {}, redoc);
})();
