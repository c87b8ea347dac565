"""HTTP layer: pages (Jinja2) and the JSON API. Thin: parse, call a service, render."""
