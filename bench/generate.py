#!/usr/bin/env python3
"""Rolecall's benchmark workload: realistic Auth0 post-login events and the roles each must get.

    python3 bench/generate.py --n 20000 --seed 7 --out bench/data

writes OUT/events.jsonl (one compact event per line, 2-3.5 KB each) and OUT/expected.txt (per event, the
roles bench/roles.rules must assign, sorted and comma-joined). The oracle below is plain Python with `re`,
written independently of the engine, so a wrong engine cannot agree with it by construction. The output
depends only on --n and --seed.
"""
import argparse
import json
import os
import random
import re
import string

# Near misses are deliberate: each must NOT satisfy the rule it resembles.
EMAIL_DOMAINS = {
    "acme.com": 14, "gmail.com": 20, "yahoo.com": 5, "hotmail.com": 4, "outlook.com": 5,
    "contoso.com": 7, "fabrikam.io": 5, "example.org": 6, "posteo.de": 3, "free.fr": 3,
    "ACME.COM": 1, "acme.co": 2, "eu.acme.com": 2, "acme.com.attacker.net": 1,   # vs /@acme\.com$/
    "gmail.com.br": 1, "notgmail.com": 1, "outlook.co": 1,                       # vs the consumer regex
}
GROUP_WEIGHTS = {
    "engineering": 20, "support": 14, "sales": 14, "readonly": 18, "admin": 6, "billing": 7,
    "finance": 6, "ops": 8, "hr": 5, "Admin": 2, "administrators": 2, "billing-ro": 3, "finance2": 2,
}
COUNTRIES = [  # code, code3, name, continent, timezone, weight
    ("US", "USA", "United States", "NA", "America/Chicago", 24), ("DE", "DEU", "Germany", "EU", "Europe/Berlin", 10),
    ("FR", "FRA", "France", "EU", "Europe/Paris", 8), ("GB", "GBR", "United Kingdom", "EU", "Europe/London", 7),
    ("IN", "IND", "India", "AS", "Asia/Kolkata", 8), ("BR", "BRA", "Brazil", "SA", "America/Sao_Paulo", 5),
    ("JP", "JPN", "Japan", "AS", "Asia/Tokyo", 5), ("ES", "ESP", "Spain", "EU", "Europe/Madrid", 4),
    ("IT", "ITA", "Italy", "EU", "Europe/Rome", 4), ("NL", "NLD", "Netherlands", "EU", "Europe/Amsterdam", 3),
    ("PL", "POL", "Poland", "EU", "Europe/Warsaw", 3), ("SE", "SWE", "Sweden", "EU", "Europe/Stockholm", 2),
    ("CH", "CHE", "Switzerland", "EU", "Europe/Zurich", 2), ("NO", "NOR", "Norway", "EU", "Europe/Oslo", 1),
    ("AT", "AUT", "Austria", "EU", "Europe/Vienna", 2), ("IE", "IRL", "Ireland", "EU", "Europe/Dublin", 1),
    ("DK", "DNK", "Denmark", "EU", "Europe/Copenhagen", 1), ("CA", "CAN", "Canada", "NA", "America/Toronto", 4),
    ("AU", "AUS", "Australia", "OC", "Australia/Sydney", 3), ("SG", "SGP", "Singapore", "AS", "Asia/Singapore", 1),
]
CONNECTIONS = [  # strategy, connection name, weight
    ("auth0", "Username-Password-Authentication", 34), ("google-oauth2", "google-oauth2", 24),
    ("github", "github", 6), ("samlp", "acme-okta", 6), ("waad", "contoso-entra", 6), ("oidc", "fabrikam-oidc", 4),
    ("adfs", "globex-adfs", 3), ("apple", "apple", 5), ("sms", "sms", 3), ("email", "email", 4), ("facebook", "facebook", 5),
]
AGENTS = [
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", 17),
    ("Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.6422.53 Mobile Safari/537.36", 17),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36 Edg/125.0.0.0", 26),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15", 14),
    ("Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0", 7),
    ("Dalvik/2.1.0 (Linux; U; android 13; Pixel 7 Build/TQ3A)", 6),       # lower-case android: not mobile
    ("AcmeMobile/4.1 (com.acme.app; iOS 17.5; Scale/3.00)", 7),           # no iPhone token: not mobile
    ("curl/8.7.1", 3),
]
PLANS = {"free": 44, "pro": 24, "team": 12, "enterprise": 16, "Enterprise": 4}
WORDS = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda sigma tau omega".split()
FIRST = "ana ben chloe dmitri elif farah goran hana ivo jun kemal lena marek nadia oskar priya quinn rosa sven tomas ugo vera wen ximena yusuf zara".split()
LAST = "abbott berg castillo dahl eriksen fontaine gallo haas ito jansen kowalczyk lindqvist moreau novak okafor park quint rossi svensson tran ueda voss wolff".split()
EU = {"AT", "BE", "DE", "DK", "ES", "FI", "FR", "IE", "IT", "NL", "PL", "PT", "SE"}


def weighted(rng, table):
    items = list(table.items()) if isinstance(table, dict) else [(row, row[-1]) for row in table]
    return rng.choices([item for item, _ in items], weights=[weight for _, weight in items], k=1)[0]


def token(rng, n, alphabet=string.ascii_letters + string.digits):
    return "".join(rng.choice(alphabet) for _ in range(n))


def stamp(rng, first_year, last_year):
    return "%d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (rng.randint(first_year, last_year), rng.randint(1, 12), rng.randint(1, 28),
                                                rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59), rng.randint(0, 999))


def login_count(rng):
    roll = rng.random()
    if roll < 0.14:
        return 1
    if roll < 0.42:
        return rng.randint(2, 10)
    if roll < 0.79:
        return rng.randint(11, 99)
    return rng.randint(100, 9000)


def event(rng):
    first, last = rng.choice(FIRST), rng.choice(LAST)
    domain = weighted(rng, EMAIL_DOMAINS)
    email = "%s%s%s@%s" % (first, rng.choice([".", "_", "", "-"]), last, domain)
    verified = rng.random() < 0.72
    strategy, connection_name, _ = weighted(rng, CONNECTIONS)
    provider = strategy if strategy not in ("sms", "email") else strategy
    country = weighted(rng, COUNTRIES)
    groups = []
    for group in rng.choices(list(GROUP_WEIGHTS), weights=list(GROUP_WEIGHTS.values()), k=rng.choice([0, 1, 1, 2, 2, 3, 4, 5])):
        if group not in groups:
            groups.append(group)
    identities = [{"connection": connection_name, "provider": provider, "user_id": token(rng, 24, "0123456789abcdef"),
                   "isSocial": strategy in ("google-oauth2", "github", "apple", "facebook")}]
    for _ in range(rng.choice([0, 0, 0, 1, 2])):
        social = rng.choice(["google-oauth2", "github", "apple"])
        identities.append({"connection": social, "provider": social, "user_id": str(rng.randint(10**17, 10**19)),
                           "isSocial": True, "profileData": {"email": email, "email_verified": verified,
                                                             "name": "%s %s" % (first.title(), last.title())}})
    scopes = rng.sample(["openid", "profile", "email", "offline_access", "read:invoices", "write:invoices", "read:reports"],
                        rng.randint(1, 5))
    return {
        "transaction": {"id": token(rng, 32), "locale": rng.choice(["en", "de", "fr", "es", "ja"]),
                        "protocol": rng.choice(["oidc-basic-profile", "oauth2-refresh-token", "samlp"]),
                        "requested_scopes": scopes, "redirect_uri": "https://app.example.com/callback",
                        "response_mode": "query", "response_type": ["code"], "state": token(rng, 24),
                        "ui_locales": ["en"], "acr_values": []},
        "authentication": {"methods": [{"name": rng.choice(["pwd", "federated", "passkey", "mfa"]),
                                        "timestamp": stamp(rng, 2025, 2025)}],
                           "riskAssessment": None if rng.random() < 0.5 else {
                               "confidence": rng.choice(["low", "medium", "high"]), "version": "1",
                               "assessments": {"NewDevice": {"confidence": "high", "code": rng.choice(["match", "no_match"])},
                                               "ImpossibleTravel": {"confidence": "low", "code": "minimal_travel_from_last_login"}}}},
        "authorization": {"roles": []},
        "client": {"client_id": token(rng, 32), "name": rng.choice(["Web App", "Mobile App", "Admin Console", "CLI"]),
                   "metadata": {"tier": rng.choice(["gold", "silver"])}},
        "connection": {"id": "con_" + token(rng, 16), "name": connection_name, "strategy": strategy, "metadata": {}},
        "organization": None if rng.random() < 0.7 else {"id": "org_" + token(rng, 16), "name": rng.choice(["acme", "contoso"]),
                                                         "display_name": rng.choice(["Acme Inc", "Contoso"]), "metadata": {}},
        "request": {"ip": "%d.%d.%d.%d" % tuple(rng.randint(1, 254) for _ in range(4)), "method": rng.choice(["GET", "POST"]),
                    "hostname": "login.example.com", "language": rng.choice(["en-US", "de-DE", "fr-FR"]),
                    "user_agent": weighted(rng, dict(AGENTS)),
                    "geoip": {"cityName": rng.choice(["Lyon", "Austin", "Osaka", "Graz", "Pune"]), "continentCode": country[3],
                              "countryCode": country[0], "countryCode3": country[1], "countryName": country[2],
                              "latitude": round(rng.uniform(-50, 65), 5), "longitude": round(rng.uniform(-150, 150), 5),
                              "subdivisionCode": token(rng, 2, string.ascii_uppercase), "timeZone": country[4]},
                    "query": {"scope": " ".join(scopes), "prompt": "login"} if rng.random() < 0.5 else {}, "body": {}},
        "resource_server": {"identifier": "https://api.example.com/"},
        "stats": {"logins_count": login_count(rng)},
        "tenant": {"id": rng.choice(["acme-prod", "acme-dev"])},
        "user": {"user_id": "%s|%s" % (provider, identities[0]["user_id"]), "email": email, "email_verified": verified,
                 "name": "%s %s" % (first.title(), last.title()), "given_name": first.title(), "family_name": last.title(),
                 "nickname": first, "picture": "https://s.gravatar.com/avatar/%s?s=480&r=pg&d=identicon" % token(rng, 32, "0123456789abcdef"),
                 "created_at": stamp(rng, 2018, 2024), "updated_at": stamp(rng, 2024, 2025),
                 "phone_number": None if rng.random() < 0.8 else "+%d%09d" % (rng.randint(1, 99), rng.randint(0, 10**9 - 1)),
                 "multifactor": rng.sample(["guardian", "otp", "webauthn-platform"], rng.randint(0, 2)), "identities": identities,
                 "app_metadata": {"groups": groups, "plan": weighted(rng, PLANS), "customer": "cus_" + token(rng, 14),
                                  "flags": {"beta": rng.random() < 0.3, "legacy_ui": rng.random() < 0.1}},
                 "user_metadata": {"theme": rng.choice(["dark", "light"]), "newsletter": rng.random() < 0.4,
                                   "bio": " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 30)))}},
        "secrets": {},
    }


STAFF = re.compile(r"@acme\.com$")
CONSUMER = re.compile(r"@(gmail|yahoo|hotmail|outlook)\.com$")
MOBILE = re.compile(r"(iPhone|Android)")


def expected_roles(e):
    """What bench/roles.rules must assign, computed directly."""
    user, logins = e["user"], e["stats"]["logins_count"]
    groups, strategy = user["app_metadata"]["groups"], e["connection"]["strategy"]
    roles = set()
    if logins == 1:
        roles.add("member")
    if STAFF.search(user["email"]) and user["email_verified"]:
        roles.add("staff")
    if "admin" in groups:
        roles.add("admin")
    if e["request"]["geoip"]["countryCode"] in EU:
        roles.add("eu")
    if strategy == "google-oauth2" and logins > 10:
        roles.add("google_regular")
    if CONSUMER.search(user["email"]) and not user["email_verified"]:
        roles.add("unverified_consumer")
    if "billing" in groups or "finance" in groups:
        roles.add("finance")
    if MOBILE.search(e["request"]["user_agent"]):
        roles.add("mobile")
    if logins >= 100 and user["app_metadata"]["plan"] == "enterprise":
        roles.add("power_user")
    if strategy in ("samlp", "waad", "adfs", "oidc") and user["email_verified"]:
        roles.add("sso")
    return ",".join(sorted(roles))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "data"))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    rng = random.Random(args.seed)
    sizes = []
    with open(os.path.join(args.out, "events.jsonl"), "w", encoding="utf-8", newline="\n") as events, \
            open(os.path.join(args.out, "expected.txt"), "w", encoding="utf-8", newline="\n") as expected:
        for _ in range(args.n):
            e = event(rng)
            line = json.dumps(e, separators=(",", ":"), ensure_ascii=False)
            events.write(line + "\n")
            expected.write(expected_roles(e) + "\n")
            sizes.append(len(line.encode()) + 1)
    sizes.sort()
    print(json.dumps({"events": args.n, "bytes": sum(sizes), "min_bytes": sizes[0], "median_bytes": sizes[len(sizes) // 2],
                      "max_bytes": sizes[-1]}))


if __name__ == "__main__":
    main()
