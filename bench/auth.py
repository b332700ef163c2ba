"""Access-token verification and login latency.

Prints, single-threaded:
- verifications/s through tiffin's verifier (signature, claims, tenant, revocation) for a
  token not seen before, as a ratio to bare RS256 signature verification with `cryptography`
  measured in the same run (goal >= 0.7);
- the same for a token seen before, answered by the verifier's cache (goal >= 200,000/s);
- why RS256: bare verification rates of RS256, ES256 and Ed25519 on this machine;
- login p50/p99 over HTTP (in-process ASGI, real PostgreSQL and Redis) with argon2id at the
  configured parameters, next to bare argon2id verification p50/p99.
"""

from __future__ import annotations

import asyncio
import base64
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding

sys.path.insert(0, str(Path(__file__).parent))
from _engines import engines
from tiffin.app import create_app, module_runtimes
from tiffin.identity.passwords import Passwords
from tiffin.identity.tokens import (
    KeyRing,
    RevokedSessions,
    TokenVerifier,
    new_rsa_key,
    public_jwk,
    sign_access_token,
)
from tiffin.infra.db import tenant_transaction
from tiffin.infra.observability import configure_logging
from tiffin.infra.resources import Resources
from tiffin.settings import Settings
from tiffin.tenancy.schemas import TenantCreate
from tiffin.tenancy.service import tenants

SECONDS = 1.0


def rate(fn: Callable[[], object], seconds: float = SECONDS, rounds: int = 3) -> float:
    """Calls per second of `fn`: the best of `rounds` runs of `seconds` each (the least
    disturbed by whatever else the machine does), measured in batches of 500."""
    for _ in range(200):
        fn()
    best = 0.0
    for _ in range(rounds):
        calls, started = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - started) < seconds:
            for _ in range(500):
                fn()
            calls += 500
        best = max(best, calls / elapsed)
    return best


def bench_verification() -> None:
    key = new_rsa_key()
    keys = KeyRing()
    keys.replace(("k1", key), [public_jwk(key, "k1")])
    revoked = RevokedSessions()
    for _ in range(10_000):  # a realistic mirror: many revoked sessions
        revoked.add(uuid.uuid4(), time.time() + 600)
    tenant = str(uuid.uuid4())
    token, _ = sign_access_token(
        keys,
        issuer="tiffin",
        account_id=uuid.uuid4(),
        tenant_id=uuid.UUID(tenant),
        session_id=uuid.uuid4(),
        roles=("customer",),
        restaurant_id=None,
        now=time.time(),
        ttl=600,
    )
    signing_input, _, signature = token.rpartition(".")
    raw_signature = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    public, message = key.public_key(), signing_input.encode()
    pkcs1, sha256 = padding.PKCS1v15(), hashes.SHA256()

    bare = rate(lambda: public.verify(raw_signature, message, pkcs1, sha256))
    fresh_verifier = TokenVerifier(keys, revoked, issuer="tiffin", cache_size=0)
    fresh = rate(lambda: fresh_verifier.verify(token, tenant))
    cached_verifier = TokenVerifier(keys, revoked, issuer="tiffin")
    cached = rate(lambda: cached_verifier.verify(token, tenant))

    print(f"bare RS256 verify (cryptography):      {bare:>12,.0f}/s  (ceiling)")
    print(
        f"tiffin verifier, token not seen before: {fresh:>12,.0f}/s  "
        f"ratio {fresh / bare:.2f} (goal >= 0.70)"
    )
    print(f"tiffin verifier, token seen before:     {cached:>12,.0f}/s  (goal >= 200,000/s)")

    payload = b"x" * 300
    p256 = ec.generate_private_key(ec.SECP256R1())
    es_sig, es_pub = p256.sign(payload, ec.ECDSA(hashes.SHA256())), p256.public_key()
    ed = ed25519.Ed25519PrivateKey.generate()
    ed_sig, ed_pub = ed.sign(payload), ed.public_key()
    es256 = rate(lambda: es_pub.verify(es_sig, payload, ec.ECDSA(hashes.SHA256())), 1.0)
    ed25519_rate = rate(lambda: ed_pub.verify(ed_sig, payload), 1.0)
    print(
        f"algorithm choice, bare verify/s: RS256 {bare:,.0f}, ES256 {es256:,.0f} "
        f"({bare / es256:.1f}x slower), Ed25519 {ed25519_rate:,.0f} "
        f"({bare / ed25519_rate:.1f}x slower)"
    )


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


async def bench_login(settings: Settings, rounds: int = 100) -> None:
    passwords = Passwords(
        pepper="",
        time_cost=settings.argon2_time_cost,
        memory_kib=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism,
    )
    stored = await passwords.hash("correct horse battery staple")
    bare = []
    for _ in range(rounds):
        started = time.perf_counter()
        await passwords.verify(stored, "correct horse battery staple")
        bare.append((time.perf_counter() - started) * 1000)

    resources = await Resources.open(settings)
    try:
        async with module_runtimes(resources):
            async with tenant_transaction(resources.sessionmaker, None) as session:
                tenant = await tenants.create(session, TenantCreate(slug="bench", name="Bench"))
            app = create_app(resources=resources)
            transport = httpx.ASGITransport(app=app)
            headers = {"X-Tenant-ID": tenant.slug}
            async with httpx.AsyncClient(transport=transport, base_url="http://b") as client:
                account = {
                    "email": "bench@example.com",
                    "password": "correct horse battery staple",
                    "name": "Bench",
                }
                await client.post("/v1/auth/register", json=account, headers=headers)
                timings = []
                for _ in range(rounds):
                    started = time.perf_counter()
                    response = await client.post(
                        "/v1/auth/login",
                        headers=headers,
                        json={"identifier": account["email"], "password": account["password"]},
                    )
                    timings.append((time.perf_counter() - started) * 1000)
                    assert response.status_code == 200, response.text
    finally:
        await resources.close()
    p50, p99 = percentiles(timings)
    b50, b99 = percentiles(bare)
    print(
        f"argon2id t={settings.argon2_time_cost} m={settings.argon2_memory_kib} KiB "
        f"p={settings.argon2_parallelism}: verify p50 {b50:.1f} ms, p99 {b99:.1f} ms"
    )
    print(
        f"login over HTTP (argon2id + session + tokens + audit): p50 {p50:.1f} ms, "
        f"p99 {p99:.1f} ms; p50 ratio to bare argon2id {p50 / b50:.2f}"
    )


def main() -> None:
    configure_logging("WARNING")  # the per-request log lines would drown the figures
    bench_verification()
    with engines(
        login_limit_per_account="100000/60",
        login_limit_per_ip="100000/60",
        default_max_sessions=1000,
    ) as (settings, _):
        asyncio.run(bench_login(settings))


if __name__ == "__main__":
    main()
