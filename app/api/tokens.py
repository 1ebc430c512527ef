"""API token management: list the caller's tokens, revoke one."""
from flask import abort, g

from app.api import bp, schemas
from app.api.auth import token_required
from app.services import tokens


@bp.get("/tokens")
@token_required
def list_tokens():
    """The caller's tokens (never the secrets): when each was made, last used and expires."""
    return {"items": [schemas.token(t, current=t.id == g.token.id) for t in tokens.listing(g.user)]}


@bp.delete("/tokens/<int:token_id>")
@token_required
def revoke_token(token_id: int):
    """Revoke one of the caller's tokens (the one in use too)."""
    if not tokens.revoke(g.user, token_id):
        abort(404, "No such token.")
    return "", 204
