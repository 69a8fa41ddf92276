"""The application as the production web server, Granian, serves it:
`granian --interface wsgi labeling.site.web_server:application`.

Granian parses HTTP in Rust and hands each request to a thread of the worker, which makes a
small request several times cheaper than under gunicorn. Two of its WSGI habits are mended here:

- it copies the server process's environment (DATABASE_URL, SECRET_KEY, ...) into every
  request's environ, so into `request.META`, where error reports and debug pages would show
  it; those keys are dropped, the request's own keys kept;
- its `wsgi.input` ends at the body's end, chunked bodies too, but it does not say so; it is
  marked with `wsgi.input_terminated`, which the upload limit reads.

`labeling.site.wsgi:application` stays the plain Django application (runserver, other
servers)."""

import os

from labeling.site.wsgi import application as django_application

# The keys a server sets from the request itself, kept even when the environment has them too.
_REQUEST_KEYS = frozenset(
    {
        "REQUEST_METHOD",
        "SCRIPT_NAME",
        "PATH_INFO",
        "QUERY_STRING",
        "CONTENT_TYPE",
        "CONTENT_LENGTH",
        "SERVER_NAME",
        "SERVER_PORT",
        "SERVER_PROTOCOL",
        "SERVER_SOFTWARE",
        "GATEWAY_INTERFACE",
        "REMOTE_ADDR",
    }
)
_PROCESS_KEYS = frozenset(os.environ) - _REQUEST_KEYS


def application(environ, start_response):
    for key in _PROCESS_KEYS.intersection(environ):
        del environ[key]
    environ["wsgi.input_terminated"] = True
    return django_application(environ, start_response)
