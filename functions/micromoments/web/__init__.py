"""The opt-in site: server-rendered HTML that works without JavaScript, served by one
Lambda behind an HTTP API (API Gateway v2; the entry point is `handlers.web`). It never
talks to Google and cannot read the Google key: it writes the Store and enqueues work.

Routes, one module an area: `public` (``/health``, ``/privacy``, ``/static/site.css``,
``/static/preferences.js``); `sign_in` (``GET /`` with an email field, ``POST /login`` to
email a sign-in link, ``GET /auth`` a "Sign in as" button that changes nothing, ``POST /auth``
for a session, ``POST /logout``); `preferences` (``GET/POST /preferences`` to opt in and change,
``POST /preferences/dont-pair/clear``); `leaving` (``GET /optout/confirm`` then
``POST /optout``, ``GET /delete-my-data/confirm`` then ``POST /delete-my-data``,
``POST /logout/everywhere``, and ``GET/POST /leave``, opting out from an email's link
without signing in); `unsubscribe` (``GET/POST /unsubscribe``, one click, RFC 8058).

Around them: `app` (the resolver, and the one place that maps errors to pages, STYLE.md 6),
`rendering` (templates and the security headers of every answer), `forms` (urlencoded
bodies and CSRF tokens), `sessions` (cookies, the signed-in session, and the preambles of
form POSTs: `signed_in_post`, `browser_post`), `request` (the event being answered),
`dependencies` (what the routes work with) and `emailed_links` (the pages of the links in
emails).

Safety: every state-changing form but the emailed links (unsubscribe, leave), whose
purpose-scoped tokens are the authority, carries a CSRF token (an HMAC of the session, or
of a browser cookie before sign-in) and must be sent urlencoded (415 otherwise); leaving
asks for a confirmation first, without JavaScript; security headers on every response,
errors included; GETs change nothing; an unknown method is a 405 with ``Allow``; errors
are pages, never tracebacks; tokens never reach a log line (only the route and the outcome
are logged). No route reads the Store: the services give them views.
"""
