"""Live: platform events pushed over a WebSocket API (docs/live.md).

``frames`` (what a socket carries), ``matching`` (which frames an event makes
for a subscription), ``store`` (the connections table), ``access`` (who may
open a socket), ``sockets`` (the $connect/message/$disconnect logic) and
``push`` (posting frames to sockets, from the events stream).
"""
