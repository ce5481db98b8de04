"""The web chat widget channel: embed script, chat frame, session, socket, rendering and the
relay's sender."""
