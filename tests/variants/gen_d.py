"""Variants for: duplicate keys, HTTP 429/5xx/timeouts, attribute names, NDJSON framing
and malformed lines."""
from lib import case, up, upd, dl, mapping, KEY_TERMS, EMPTY_TERMS

KEY = 'api_key = "ls_test_key"\n'


def rule(**kw):
    out = ["[[rule]]"]
    for k, v in kw.items():
        if isinstance(v, bool):
            out.append(f"{k} = {'true' if v else 'false'}")
        elif isinstance(v, (int, float)):
            out.append(f"{k} = {v}")
        elif isinstance(v, dict):
            inner = ", ".join(f'"{a}" = "{b}"' for a, b in v.items())
            out.append(f"{k} = {{ {inner} }}")
        else:
            out.append(f"{k} = '{v}'")
    return "\n".join(out) + "\n"


def dup_keys():
    m = mapping("email", "email", [("plan", "plan"), ("seats", "seats", 'type = "number"')],
                pk_extra="lowercase = true")
    rows = [("a@example.com", "free", "1"), ("b@example.com", "free", "1"),
            ("c@example.com", "free", "1"), ("A@Example.com", "pro", "2"),
            ("d@example.com", "free", "1"), (" b@example.com", "pro", "2"),
            ("C@EXAMPLE.COM ", "pro", "2"), ("a@example.com", "team", "3"),
            ("e@example.com", "free", "1"), ("b@example.com", "team", "3"),
            ("c@example.com", "team", "3"), ("a@example.com", "enterprise", "4"),
            ("f@example.com", "free", "1"), ("c@example.com", "enterprise", "4")]
    lines = ["email,plan,seats"] + [f'"{k}",{p},{s}' for k, p, s in rows]
    ups = [up(k.strip().lower(), plan=p, seats=int(s)) for k, p, s in rows]
    server = KEY + "\n".join([
        rule(primary_key="a@example.com", attempt=1, status=200, delay_ms=700),
        rule(primary_key="b@example.com", attempt=2, status=200, delay_ms=500),
        rule(primary_key="c@example.com", attempt=1, status=200, delay_ms=300),
        rule(primary_key="c@example.com", attempt=3, status=200, delay_ms=400)])
    final = {}
    for k, p, s in rows:
        final[k.strip().lower()] = {"plan": p, "seats": int(s)}
    case("dup-keys-concurrency16-several-delays", ("\n".join(lines) + "\n").encode(), m, {
        "args": ["--concurrency", "16", "--timeout", "5s"],
        "exit_class": "OK", "upserts": ups, "upserts_order": "per_key",
        "upserts_merge_allowed": True,
        "state": {"customers": final},
        "requests": {"no_overlap_per_key": True},
        "dry_run": True},
        server=server,
        md="Concurrency 16; several keys (in different case and spacing) with slow first or "
           "later writes: per key, file order and no overlap.")

    m = mapping("email", "email", [("plan", "plan")])
    data = (b"email,plan\n"
            b"k1@example.com,free\n"
            b"k2@example.com,free\n"
            b"k1@example.com,pro\n"
            b"k1@example.com,team\n"
            b"k2@example.com,pro\n")
    server = KEY + "\n".join([
        rule(primary_key="k1@example.com", attempt=1, status=503,
             body='{"statusCode":503,"message":"Service Unavailable"}'),
        rule(primary_key="k1@example.com", attempt=2, status=503,
             body='{"statusCode":503,"message":"Service Unavailable"}'),
        rule(primary_key="k2@example.com", attempt=1, status=429, headers={"Retry-After": "1"},
             body='{"statusCode":429,"message":"Too Many Requests"}')])
    case("dup-keys-retry-keeps-order", data, m, {
        "args": ["--concurrency", "8", "--max-retries", "4", "--timeout", "5s"],
        "exit_class": "OK",
        "upserts": [up("k1@example.com", plan="free"), up("k2@example.com", plan="free"),
                    up("k1@example.com", plan="pro"), up("k1@example.com", plan="team"),
                    up("k2@example.com", plan="pro")],
        "upserts_order": "per_key", "upserts_merge_allowed": True,
        "state": {"customers": {"k1@example.com": {"plan": "team"},
                                "k2@example.com": {"plan": "pro"}}},
        "requests": {"no_overlap_per_key": True,
                     "per_key": {"k1@example.com": {"min": 3}, "k2@example.com": {"min": 2}}},
        "dry_run": True},
        server=server,
        md="A key's first row is retried (503 twice, 429): its later rows wait for the retry to "
           "succeed, so the last row still wins.")

    m = mapping("id", None, [("plan", "plan")])
    data = (b"id,plan\n"
            b"k1,free\n"
            b'" k1",pro\n'
            b'"k1 ",team\n'
            b"k2,free\n")
    server = KEY + rule(primary_key="k1", attempt=1, status=200, delay_ms=600)
    case("dup-keys-server-trim", data, m, {
        "args": ["--concurrency", "8", "--timeout", "5s"],
        "exit_class": "OK",
        "upserts": [up("k1", plan="free"), up(" k1", plan="pro"), up("k1 ", plan="team"),
                    up("k2", plan="free")],
        "upserts_order": "per_key", "upserts_merge_allowed": True,
        "state": {"customers": {"k1": {"plan": "team"}, "k2": {"plan": "free"}}},
        "requests": {"no_overlap_per_key": True},
        "dry_run": True,
        "notes": ["A string key without trim is sent as it is, but the server trims it: ' k1' "
                  "and 'k1 ' are the same customer as 'k1', so they go one at a time in file "
                  "order ('after the server's own trimming')."]},
        server=server,
        md="String keys that differ only by surrounding spaces are one customer on the server.")


R429 = '{"statusCode":429,"message":"Too Many Requests"}'


def http_429():
    m = mapping("email", "email", [("plan", "plan")])
    data = (b"email,plan\n" + b"".join(f"r{i}@example.com,p{i}\n".encode() for i in range(1, 6)))
    server = KEY + "\n".join([
        rule(primary_key="r2@example.com", attempt=1, status=429, retry_after_date_in_s=3,
             body=R429),
        rule(primary_key="r4@example.com", attempt=1, status=429, retry_after_date_in_s=-5,
             body=R429)])
    ups = [up(f"r{i}@example.com", plan=f"p{i}") for i in range(1, 6)]
    case("http-429-retry-after-http-date", data, m, {
        "args": ["--concurrency", "1", "--max-retries", "4"],
        "exit_class": "OK", "upserts": ups,
        "requests": {"total": 7, "per_key": {"r2@example.com": 2, "r4@example.com": 2},
                     "gaps": [{"key": "r2@example.com", "after_attempt": 1, "from": "answered",
                               "min_ms": 2900, "max_ms": 10000},
                              {"key": "r4@example.com", "after_attempt": 1, "from": "answered",
                               "max_ms": 5000}]},
        "dry_run": False,
        "notes": ["Retry-After as an HTTP date at least 3 s ahead: the retry waits until then.",
                  "A date in the past means: retry without waiting for it (normal backoff)."]},
        server=server,
        md="429 with Retry-After as an HTTP date (3 s ahead; and one in the past).")

    server = KEY + "\n".join([
        rule(primary_key="r2@example.com", attempt=1, status=503, headers={"Retry-After": "2"},
             body='{"statusCode":503,"message":"Service Unavailable"}'),
        rule(primary_key="r4@example.com", attempt=1, status=429, body=R429)])
    case("http-503-retry-after-seconds", data, m, {
        "args": ["--concurrency", "1", "--max-retries", "3"],
        "exit_class": "OK", "upserts": ups,
        "requests": {"total": 7, "per_key": {"r2@example.com": 2, "r4@example.com": 2},
                     "gaps": [{"key": "r2@example.com", "after_attempt": 1, "from": "answered",
                               "min_ms": 2000, "max_ms": 10000},
                              {"key": "r4@example.com", "after_attempt": 1, "from": "answered",
                               "max_ms": 10000}]},
        "dry_run": False},
        server=server,
        md="503 with Retry-After: 2 is honoured; a 429 without Retry-After is retried after "
           "backoff.")

    data = b"email,plan\n" + b"".join(f"g{i}@example.com,p{i}\n".encode() for i in range(1, 21))
    ups = [up(f"g{i}@example.com", plan=f"p{i}") for i in range(1, 21)]
    server = KEY + rule(nth_request=5, for_ms=300, status=429, headers={"Retry-After": "2"},
                        body=R429)
    case("http-429-global-pause-several-keys", data, m, {
        "args": ["--concurrency", "4", "--max-retries", "5", "--timeout", "5s"],
        "exit_class": "OK", "upserts": ups,
        "requests": {"status_count": {"429": {"min": 1}},
                     "quiet_after_first_status": [{"status": 429, "from_ms": 100,
                                                   "to_ms": 2000}]},
        "dry_run": False,
        "notes": ["Requests 5.. for 300 ms get 429 with Retry-After: 2 (several keys at once, "
                  "concurrency 4). The pause holds for every worker: from 100 ms after the first "
                  "429 was sent (requests already on their way may still arrive) until 2 s "
                  "after it, nothing arrives."]},
        server=server,
        md="429 for several keys at once: the Retry-After pause is global across workers.")

    server = KEY + rule(primary_key="g3@example.com", attempt=1, status=429,
                        retry_after_date_in_s=2, body=R429)
    case("http-429-date-global-pause", data, m, {
        "args": ["--concurrency", "4", "--max-retries", "5", "--timeout", "5s"],
        "exit_class": "OK", "upserts": ups,
        "requests": {"status_count": {"429": 1},
                     "quiet_after_first_status": [{"status": 429, "from_ms": 100,
                                                   "to_ms": 1900}]},
        "dry_run": False,
        "notes": ["The HTTP date is at least 2 s ahead (rounded up to a whole second); the "
                  "window is 1.9 s to allow the client's clock to be a little ahead."]},
        server=server,
        md="One 429 with an HTTP-date Retry-After under concurrency 4: every worker pauses.")


E500 = '{"statusCode":500,"message":"Internal server error"}'


def http_5xx():
    m = mapping("email", "email", [("plan", "plan")])
    data = b"email,plan\ns1@example.com,free\ns2@example.com,pro\ns3@example.com,team\n"
    server = KEY + "\n".join([
        rule(primary_key="s2@example.com", status=500, body=E500),
        rule(primary_key="s3@example.com", attempt=1, status=503,
             body='{"statusCode":503,"message":"Service Unavailable"}')])
    case("http-5xx-max-retries-0", data, m, {
        "args": ["--concurrency", "1", "--max-retries", "0"],
        "exit_class": "PARTIAL",
        "upserts": [up("s1@example.com", plan="free")],
        "also_sent": [up("s2@example.com", plan="pro"), up("s3@example.com", plan="team")],
        "dead_letter": [
            dl(3, "s2@example.com,pro", "500", "Internal server error",
               {"any_of": [{"all_of": ["1", {"any_of": ["attempt", "tries", "tried"]}]},
                           {"all_of": ["0", "retr"]}, "no retr", "without retr"]},
               max_reason_chars=1000),
            dl(4, "s3@example.com,team", "503",
               {"any_of": [{"all_of": ["1", {"any_of": ["attempt", "tries", "tried"]}]},
                           {"all_of": ["0", "retr"]}, "no retr", "without retr"]},
               max_reason_chars=1000)],
        "requests": {"total": 3, "per_key": {"s1@example.com": 1, "s2@example.com": 1,
                                             "s3@example.com": 1}},
        "dry_run": False},
        server=server,
        md="--max-retries 0: one attempt per row, even for a 503 that would pass on retry.")

    data = (b"email,plan\n" + b"".join(f"s{i}@example.com,p{i}\n".encode() for i in range(1, 7)))
    server = KEY + "\n".join([
        rule(primary_key="s1@example.com", status=502, headers={"Content-Type": "text/html"},
             body="<html><body>" + "Bad Gateway " * 400 + "</body></html>"),
        rule(primary_key="s2@example.com", attempt=1, status=504, body="gateway timeout"),
        rule(primary_key="s3@example.com", status=400,
             body='{"statusCode":400,"message":["properties must be an object"]}'),
        rule(primary_key="s4@example.com", status=422,
             body='{"statusCode":422,"message":"Unprocessable Entity"}'),
        rule(primary_key="s5@example.com", status=500, body=E500)])
    case("http-5xx-max-retries-1-and-4xx", data, m, {
        "args": ["--concurrency", "2", "--max-retries", "1"],
        "exit_class": "PARTIAL",
        "upserts": [up("s2@example.com", plan="p2"), up("s6@example.com", plan="p6")],
        "also_sent": [up("s1@example.com", plan="p1"), up("s3@example.com", plan="p3"),
                      up("s4@example.com", plan="p4"), up("s5@example.com", plan="p5")],
        "dead_letter": [
            dl(2, "s1@example.com,p1", "502",
               {"any_of": [{"all_of": ["2", {"any_of": ["attempt", "tries", "tried"]}]},
                           {"all_of": ["1", "retr"]}]}, max_reason_chars=1000),
            dl(4, "s3@example.com,p3", "400", max_reason_chars=1000),
            dl(5, "s4@example.com,p4", "422", max_reason_chars=1000),
            dl(6, "s5@example.com,p5", "500", "Internal server error",
               {"any_of": [{"all_of": ["2", {"any_of": ["attempt", "tries", "tried"]}]},
                           {"all_of": ["1", "retr"]}]}, max_reason_chars=1000)],
        "requests": {"total": 9, "per_key": {"s1@example.com": 2, "s2@example.com": 2,
                                             "s3@example.com": 1, "s4@example.com": 1,
                                             "s5@example.com": 2, "s6@example.com": 1},
                     "min_gap_ms_same_key": 100},
        "dry_run": False},
        server=server,
        md="--max-retries 1: 5xx get two attempts; 400 and 422 are not retried; a long HTML "
           "502 page is cut in the reason.")

    data = (b"email,plan\n" + b"".join(f"m{i}@example.com,p{i}\n".encode() for i in range(1, 9)))
    server = KEY + "\n".join(rule(primary_key=f"m{i}@example.com", status=500, body=E500)
                             for i in (2, 3, 5, 7))
    case("http-5xx-forever-concurrent", data, m, {
        "args": ["--concurrency", "4", "--max-retries", "2"],
        "exit_class": "PARTIAL",
        "upserts": [up(f"m{i}@example.com", plan=f"p{i}") for i in (1, 4, 6, 8)],
        "also_sent": [up(f"m{i}@example.com", plan=f"p{i}") for i in (2, 3, 5, 7)],
        "dead_letter": [dl(i + 1, f"m{i}@example.com,p{i}", "500",
                           {"any_of": [{"all_of": ["3", {"any_of": ["attempt", "tries",
                                                                    "tried"]}]},
                                       {"all_of": ["2", "retr"]}]}) for i in (2, 3, 5, 7)],
        "requests": {"total": 16, "per_key": {**{f"m{i}@example.com": 3 for i in (2, 3, 5, 7)},
                                              **{f"m{i}@example.com": 1 for i in (1, 4, 6, 8)}},
                     "min_gap_ms_same_key": 100},
        "dry_run": False},
        server=server,
        md="Several rows failing with 500 forever at concurrency 4: each gets exactly 3 "
           "attempts, the run finishes.")

    m = mapping("email", "email", [("plan", "plan")])
    data = b"email,plan\nw1@example.com,free\nw2@example.com,pro\nw3@example.com,team\n"
    server = KEY + rule(status=400,
                        body='{"statusCode":400,"message":"Primary key has not been set"}')
    case("http-400-no-primary-key-fatal", data, m, {
        "args": ["--concurrency", "1", "--max-retries", "2"],
        "exit_class": "FATAL", "exit_code": 3,
        "also_sent": [up("w1@example.com", plan="free"), up("w2@example.com", plan="pro"),
                      up("w3@example.com", plan="team")],
        "requests": {"total": {"min": 1, "max": 3}},
        "output_must_name": ["primary key"],
        "dry_run": False,
        "notes": ["The 400 'Primary key has not been set' stops the run (exit 3), with one "
                  "message and no dead-letter entry per row."]},
        server=server,
        md="Workspace without a primary key: FATAL during the run (exit 3).")

    case("http-401-wrong-key-fatal", data, m, {
        "args": ["--concurrency", "2"],
        "import_api_key": "ls_wrong_key_77",
        "exit_class": "FATAL", "exit_code": 3,
        "also_sent": [up("w1@example.com", plan="free"), up("w2@example.com", plan="pro"),
                      up("w3@example.com", plan="team")],
        "requests": {"total": {"min": 1, "max": 3},
                     "each_key_status": {"200": 0}},
        "output_must_name": [{"any_of": ["401", "unauthorized", "api key", "api-key"]}],
        "never_in_output": ["$API_KEY", "ls_wrong_key_77"],
        "dry_run": False},
        server=KEY,
        md="A wrong API key gets 401: FATAL (exit 3), the key never printed.")


def timeouts():
    m = mapping("email", "email", [("plan", "plan")])
    data = b"email,plan\nt1@example.com,free\nt2@example.com,pro\nt3@example.com,team\n"
    server = KEY + rule(primary_key="t2@example.com", attempt=1, status=200, delay_ms=1500,
                        apply=False)
    case("http-timeout-500ms", data, m, {
        "args": ["--concurrency", "1", "--timeout", "500ms", "--max-retries", "3"],
        "exit_class": "OK",
        "upserts": [up("t1@example.com", plan="free"), up("t2@example.com", plan="pro"),
                    up("t3@example.com", plan="team")],
        "requests": {"total": 4, "per_key": {"t2@example.com": 2},
                     "gaps": [{"key": "t2@example.com", "after_attempt": 1, "from": "received",
                               "min_ms": 450, "max_ms": 2500}]},
        "max_wall_s": 10, "dry_run": False},
        server=server,
        md="--timeout 500ms: a 1.5 s answer is given up on after about 0.5 s and retried.")

    server = KEY + rule(primary_key="t2@example.com", hang=True, apply=False)
    case("http-timeout-exhausted", data, m, {
        "args": ["--concurrency", "1", "--timeout", "1s", "--max-retries", "2"],
        "exit_class": "PARTIAL",
        "upserts": [up("t1@example.com", plan="free"), up("t3@example.com", plan="team")],
        "also_sent": [up("t2@example.com", plan="pro")],
        "dead_letter": [dl(3, "t2@example.com,pro",
                           {"any_of": ["timeout", "timed out", "time out", "time-out"]},
                           {"any_of": [{"all_of": ["3", {"any_of": ["attempt", "tries",
                                                                    "tried"]}]},
                                       {"all_of": ["2", "retr"]}]})],
        "requests": {"total": 5, "per_key": {"t2@example.com": 3}},
        "max_wall_s": 15, "dry_run": False},
        server=server,
        md="A key that never answers: 3 attempts of 1 s each, then dead-lettered naming the "
           "timeout; the run ends promptly.")

    data = b"email,plan\n" + b"".join(f"c{i}@example.com,p{i}\n".encode() for i in range(1, 9))
    server = KEY + rule(primary_key="c1@example.com", attempt=1, hang=True, apply=False)
    case("http-timeout-concurrent-others-proceed", data, m, {
        "args": ["--concurrency", "4", "--timeout", "2s", "--max-retries", "2"],
        "exit_class": "OK",
        "upserts": [up(f"c{i}@example.com", plan=f"p{i}") for i in range(1, 9)],
        "requests": {"total": 9, "per_key": {"c1@example.com": 2},
                     "gaps": [{"key": "c1@example.com", "after_attempt": 1, "from": "received",
                               "min_ms": 1950, "max_ms": 4000}]},
        "max_wall_s": 15, "dry_run": False},
        server=server,
        md="One hanging request at concurrency 4 does not hold up the other keys.")


def names():
    reserved = ["_id", "__v", "journeys", "id", "ownerId", "workspaceId", "verified",
                "journeyEnrollmentsDates", "isAnonymous", "customComponents", "workflows",
                "posthogId", "slackTeamId", "_private", "$set"]
    cols = [f"c{i}" for i in range(len(reserved))]
    m = mapping("email", "email", list(zip(cols, reserved)))
    data = ("email," + ",".join(cols) + "\n" + "a@example.com," +
            ",".join("x" for _ in cols) + "\n").encode()
    terms = []
    for name in reserved:
        if name == "id":
            terms.append({"regex": r"(?<![A-Za-z_$])id(?![A-Za-z_])"})
        elif name in ("journeys",):
            terms.append({"regex": r"journeys(?!EnrollmentsDates)"})
        else:
            terms.append(name)
    case("mapping-reserved-names-all", data, m, {
        "exit_class": "FATAL", "requests": {"total": 0}, "output_must_name": terms},
        md="Every reserved attribute name of laudspeaker-api.md, plus leading `_` and `$`: "
           "FATAL before any request, every name listed.")

    m = mapping("email", "email", [("name", "name"), ("city", "")])
    data = b"email,name,city\na@example.com,Ann,Oslo\n"
    case("mapping-empty-to", data, m, {
        "exit_class": "FATAL", "requests": {"total": 0},
        "output_must_name": [{"any_of": ["empty", "blank", "missing"]}]},
        md="`to = \"\"`: Laudspeaker refuses empty attribute names: FATAL.")

    m = mapping("email", "email", [("a", "price$usd"), ("b", "journeysCount"),
                                   ("c", "my_id"), ("d", "email_verified"), ("e", "名前"),
                                   ("f", "Created-At")])
    data = "email,a,b,c,d,e,f\nz@example.com,1,2,3,4,五,6\n".encode()
    case("mapping-allowed-names", data, m, {
        "exit_class": "OK",
        "upserts": [upd("z@example.com", {"price$usd": "1", "journeysCount": "2", "my_id": "3",
                                          "email_verified": "4", "名前": "五",
                                          "Created-At": "6"})],
        "notes": ["laudspeaker-api.md refuses names that are empty, START with _ or $, contain "
                  "a dot, or are reserved; a $ inside, a reserved word as a part of a longer "
                  "name, non-ASCII names are allowed."]},
        md="Names that look risky but are allowed must not be refused.")

    m = mapping("email", "email", [("a", "profile.name"), ("b", "x."), ("c", ".y")],
                source='format = "ndjson"')
    data = b'{"email":"z@example.com","a":"1","b":"2","c":"3"}\n'
    case("mapping-dotted-names-ndjson", data, m, {
        "exit_class": "FATAL", "requests": {"total": 0},
        "output_must_name": ["profile.name", "x.", ".y"]},
        md="Dotted attribute names in an NDJSON mapping: FATAL, all named.")


def ndjson_framing():
    m = mapping("email", "email", [("plan", "plan")], source='format = "ndjson"')
    data = (b'\xef\xbb\xbf{"email":"k1@example.com","plan":"free"}\r\n'
            b"\r\n"
            b' \t \r\n'
            b'{"email":"k2@example.com","plan":"pro"}\r\n'
            b'{"email":"k3@example.com","plan":"team"}')
    case("ndjson-bom-crlf", data, m, {
        "exit_class": "OK",
        "upserts": [up("k1@example.com", plan="free"), up("k2@example.com", plan="pro"),
                    up("k3@example.com", plan="team")]},
        md="NDJSON with a UTF-8 BOM, CRLF, blank and white-space lines, no final line break.")

    lines = [b'  {"email":"k1@example.com","plan":"free"}   ',
             b'\t{"email":"k2@example.com","plan":"pro"}\t',
             b'{ "email" : "k3@example.com" , "plan" : "team" }',
             b"   ",
             b'{"email":"k4@example.com","plan":"x"} x',
             b'{"email":"k5@example.com","plan":"ok"}']
    data = b"\n".join(lines) + b"\n\n\n"
    case("ndjson-surrounding-whitespace", data, m, {
        "exit_class": "PARTIAL",
        "upserts": [up("k1@example.com", plan="free"), up("k2@example.com", plan="pro"),
                    up("k3@example.com", plan="team"), up("k5@example.com", plan="ok")],
        "dead_letter": [dl(5, lines[4], {"any_of": ["trailing", "after", "extra",
                                                     "more than one", "multiple"]})]},
        md="White space around a JSON object is fine (JSON allows it); trailing text is not; "
           "the file ends with blank lines.")

    data = (b'{"email":"k1@example.com","plan":"free"}\n'
            b"\n\n"
            b'{"email":"k2@example.com","plan":"pro"}\n'
            b'{"email":"k3@example.com","plan":"team"}\n'
            b" \n"
            b'{"email":"bad@example.com","plan":1,}\n'
            b"  ")
    case("ndjson-blank-lines-count", data, m, {
        "exit_class": "PARTIAL",
        "upserts": [up("k1@example.com", plan="free"), up("k2@example.com", plan="pro"),
                    up("k3@example.com", plan="team")],
        "dead_letter": [dl(7, '{"email":"bad@example.com","plan":1,}',
                           {"any_of": ["comma", "invalid", "malformed", "parse", "syntax",
                                       "expected", "trailing"]})]},
        md="Blank lines count in line numbers; a last line of spaces without a line break is "
           "skipped.")


def ndjson_malformed():
    m = mapping("email", "email", [("plan", "plan")], source='format = "ndjson"')
    lines = [
        '{"email":"d1@example.com","plan":"free","traits":{"a":1,"a":2}}',
        '{"email":"d2@example.com","email":"d2b@example.com","plan":"pro"}',
        '{"email":"d3@example.com","plan":"free","list":[{"x":1,"x":2}]}',
        '{"email":"d4@example.com","plan":"a","pl\\u0061n":"b"}',
        '{"email":"d5@example.com","plan":"ok","traits":{"a":1,"b":{"a":2}}}',
        '{"email":"d6@example.com","plan":"ok2","a":{"k":1},"b":{"k":1}}',
    ]
    data = ("\n".join(lines) + "\n").encode()
    dup = {"any_of": ["duplicate", "repeated", "twice", "more than once"]}
    case("ndjson-nested-duplicate-keys", data, m, {
        "exit_class": "PARTIAL",
        "upserts": [up("d5@example.com", plan="ok"), up("d6@example.com", plan="ok2")],
        "dead_letter": [dl(1, lines[0], dup), dl(2, lines[1], dup), dl(3, lines[2], dup),
                        dl(4, lines[3], dup)],
        "notes": ["'no key repeated at any level' - also inside objects the mapping does not "
                  "use, inside arrays, and when the repeat is spelled with a \\u escape."]},
        md="Repeated keys at nested levels, in arrays, and via escapes are dead-lettered; "
           "the same key in sibling objects is fine.")

    lines = ["42", "null", "true", "[]", '"str"', "{}", "1.5e3",
             '{"email":"ok@example.com","plan":"free"}', '[{"email":"x@example.com"}]']
    data = ("\n".join(lines) + "\n").encode()
    obj = "object"
    case("ndjson-non-object-values", data, m, {
        "exit_class": "PARTIAL",
        "upserts": [up("ok@example.com", plan="free")],
        "dead_letter": [dl(1, "42", obj), dl(2, "null", obj), dl(3, "true", obj),
                        dl(4, "[]", obj), dl(5, '"str"', obj),
                        dl(6, "{}", "email", {"any_of": ["missing", "absent", "not found",
                                                         "no value", "empty"]}),
                        dl(7, "1.5e3", obj), dl(9, '[{"email":"x@example.com"}]', obj)]},
        md="Every kind of non-object JSON value on a line; an empty object lacks the key.")

    m = mapping("email", "email", [("name", "name"), ("code", "code"),
                                   ("score", "score", 'type = "number"')],
                source='format = "ndjson"')
    lines = ['{"email":"\\u0075ni@example.com","name":"Jos\\u00e9 \\ud83d\\ude00"}',
             '{"email":"s@example.com","name":"bad \\ud800 half"}',
             '{"email":"c@example.com","code":123456789012345678901234567890}',
             '{"email":"b@example.com","score":9007199254740993}',
             '{"email":"q@example.com","name":"tab\\tquote\\"slash\\/"}',
             '{"email":"e@example.com","name":"\\x41"}']
    data = ("\n".join(lines) + "\n").encode()
    case("ndjson-unicode-escapes-and-huge-numbers", data, m, {
        "exit_class": "PARTIAL",
        "upserts": [up("uni@example.com", name="José 😀"),
                    up("c@example.com", code="123456789012345678901234567890"),
                    up("q@example.com", name='tab\tquote"slash/')],
        "dead_letter": [
            dl(2, lines[1], {"any_of": ["surrogate", "invalid", "unicode", "escape", "parse",
                                        "utf"]}),
            dl(4, lines[3], "score", "9007199254740993"),
            dl(6, lines[5], {"any_of": ["escape", "invalid", "parse", "syntax"]})]},
        md="Unicode escapes (surrogate pair fine, lone surrogate not), a 30-digit number to a "
           "string attribute (source text), a JSON integer above 2^53 to a number attribute.")

    m = mapping("email", "email", [("meta", "meta", 'type = "json"'), ("plan", "plan")],
                source='format = "ndjson"')
    lines = ['{"email":"j1@example.com","meta":{"big":123456789012345678901234567890,'
             '"f":1.50,"n":null,"a":[1,"2",{"b":false}]},"plan":"x"}',
             '{"email":"j2@example.com","meta":"text","plan":"y"}']
    data = ("\n".join(lines) + "\n").encode()
    case("ndjson-json-passthrough-exact", data, m, {
        "exit_class": "OK",
        "upserts": [up("j1@example.com", meta={"big": 123456789012345678901234567890,
                                               "f": 1.5, "n": None,
                                               "a": [1, "2", {"b": False}]}, plan="x"),
                    up("j2@example.com", meta="text", plan="y")],
        "notes": ["json: 'NDJSON value passed through unchanged': a 30-digit number keeps every "
                  "digit (no float rounding)."]},
        md="json-typed NDJSON values pass through unchanged, big numbers included.")

    m = mapping("traits.email", "email", [("traits.plan", "plan"), ("a.b.c", "deep")],
                source='format = "ndjson"')
    lines = ['{"traits":{"email":"p1@example.com","plan":"free"},"a":{"b":{"c":1}}}',
             '{"traits":"p2@example.com"}',
             '{"traits":{"plan":"pro"}}',
             '{"traits.email":"p4@example.com","traits":{"email":"p4b@example.com"}}',
             '{"traits":{"email":"p5@example.com"},"a":{"b":null}}',
             '{"traits":null}']
    data = ("\n".join(lines) + "\n").encode()
    case("ndjson-key-paths", data, m, {
        "exit_class": "PARTIAL",
        "upserts": [up("p1@example.com", plan="free", deep="1"),
                    up("p4b@example.com"), up("p5@example.com")],
        "dead_letter": [dl(2, lines[1], "traits.email"), dl(3, lines[2], "traits.email"),
                        dl(6, lines[5], "traits.email")],
        "notes": ["'a.b' = key b inside object a; a non-object in the way means the value is "
                  "missing (empty), so the key row is dead-lettered.",
                  "A JSON number to a string attribute is its source text: deep = \"1\"."]},
        md="Nested key paths: present, missing, blocked by a non-object, and a literal "
           "dotted key that is not the path.")

    m = mapping("email", "email", [("plan", "plan")], source='format = "ndjson"')
    data = (b"[\n"
            b'  {"email": "a@example.com", "plan": "free"},\n'
            b'  {"email": "b@example.com", "plan": "pro"}\n'
            b"]\n")
    case("ndjson-whole-file-array-fatal", data, m, {
        "exit_class": "FATAL", "requests": {"total": 0},
        "output_must_name": [{"any_of": ["array", "ndjson", "json lines", "jsonl", "format",
                                         "not an object"]}]},
        md="A pretty-printed JSON array given as NDJSON: the file as a whole is not NDJSON "
           "(FATAL), not one dead letter per line.")


if __name__ == "__main__":
    dup_keys()
    http_429()
    http_5xx()
    timeouts()
    names()
    ndjson_framing()
    ndjson_malformed()
