"""A small tasks service that trusts Latchkey's access tokens.

The seeds' backend: FastAPI verifying Latchkey's JWTs statelessly with PyJWT
against Latchkey's JWKS, and serving /api/{user_id}/tasks to the token's
subject only. See ../README.md.
"""
