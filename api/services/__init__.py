"""The service layer: functions taking a Session and the acting Principal.

Both the JSON routes (``api.routes``) and the web pages call these; every
object-level authorisation check lives here, never in a route. Errors are
``api.errors.ApiError`` subclasses. Writes are serialised per scenario
(``scenarios.lock``), validated as a whole scenario with ``models`` (422
with every problem), audited, then committed.
"""
