"""Third round: buffer boundaries, more encodings, more HTTP timing."""
from lib import case, up, upd, dl, mapping
from gen_d import rule, KEY


def boundaries():
    m = mapping("email", "email", [("vip", "vip", 'type = "boolean"')])
    parts = [b"email,vip\r\n"]
    line = 2
    ups, dls = [], []
    for block in range(8):
        # a good row and a bad row of varying length, then a long run of blank CRLF lines
        pad = "x" * block
        good = f"g{block}{pad}@example.com,yes".encode()
        bad = f"b{block}@example.com,no{pad}".encode()
        parts += [good, b"\r\n", bad, b"\r\n"]
        ups.append(up(f"g{block}{pad}@example.com", vip=True))
        if pad:
            dls.append(dl(line + 1, bad, "vip"))
        else:
            ups.append(up(f"b{block}@example.com", vip=False))
        line += 2
        blanks = 150000 + block * 7
        parts.append(b"\r\n" * blanks)
        line += blanks
    parts.append(b"last@example.com,maybe")
    dls.append(dl(line, b"last@example.com,maybe", "vip", "maybe"))
    case("csv-crlf-blank-runs-across-buffers", b"".join(parts), m, {
        "exit_class": "PARTIAL", "upserts": ups, "dead_letter": dls,
        "notes": ["Runs of 150 000+ blank CRLF lines make some CR/LF pairs straddle the "
                  "reader's buffer refills; every dead-letter line number must stay exact."]},
        md="Long runs of blank CRLF lines: line numbers after them must stay exact.")

    m = mapping("email", "email", [("notes", "notes"), ("vip", "vip", 'type = "boolean"')])
    parts = [b"email,notes,vip\r\n"]
    line = 2
    ups, dls = [], []
    for block in range(12):
        n = 15000 + block * 3
        notes = "\r\n".join(["l"] * n)
        key = f"q{block}@example.com"
        rec = f'{key},"{notes}",{"yes" if block % 2 else "nah"}'.encode()
        parts += [rec, b"\r\n"]
        if block % 2:
            ups.append(up(key, notes=notes, vip=True))
        else:
            dls.append(dl(line, rec, "vip", "nah"))
        line += n
    case("csv-quoted-crlf-many-lines-across-buffers", b"".join(parts), m, {
        "exit_class": "PARTIAL", "upserts": ups, "dead_letter": dls},
        md="Quoted fields holding 15 000 CRLF line breaks each: line numbers and raw records "
           "across buffer refills.")

    m = mapping("email", "email", [("plan", "plan")], source='format = "ndjson"')
    parts = []
    line = 1
    ups, dls = [], []
    for block in range(6):
        good = f'{{"email":"n{block}@example.com","plan":"p{block}"}}'.encode()
        bad = f'{{"email":"x{block}@example.com","plan":"p{block}",}}'.encode()
        parts += [good, b"\r\n", bad, b"\r\n"]
        ups.append(up(f"n{block}@example.com", plan=f"p{block}"))
        dls.append(dl(line + 1, bad, {"any_of": ["invalid", "comma", "parse", "expected"]}))
        line += 2
        blanks = 140000 + block * 5
        parts.append(b"\r\n" * blanks)
        line += blanks
    case("ndjson-crlf-blank-runs-across-buffers", b"".join(parts), m, {
        "exit_class": "PARTIAL", "upserts": ups, "dead_letter": dls},
        md="NDJSON with long runs of blank CRLF lines: line numbers stay exact.")


def encodings():
    m = mapping("email", "email", [("name", "name")],
                source='format = "csv"\nencoding = "utf-16le"')
    data = "email,name\r\na@example.com,Zoë\r\n".encode("utf-16-le")
    case("encoding-utf16le-declared-no-bom", data, m, {
        "exit_class": "OK", "upserts": [up("a@example.com", name="Zoë")]},
        md="UTF-16 LE declared by its WHATWG label, no BOM.")

    big = "é" * 20000 + "😀" * 10000 + "é" * 3
    m = mapping("email", "email", [("name", "name")])
    text = f"email,name\na@example.com,{big}\nb@example.com,B\n"
    case("bom-utf16le-large-record", b"\xff\xfe" + text.encode("utf-16-le"), m, {
        "exit_class": "OK", "upserts": [up("a@example.com", name=big),
                                        up("b@example.com", name="B")]},
        md="An 80 KB UTF-16 record with surrogate pairs across the transcoder's chunks.")

    m = mapping("email", "email", [("plan", "plan")], source='format = "ndjson"')
    data = b'{"em\\u0061il":"e1@example.com","pl\\u0061n":"free"}\n'
    case("ndjson-escaped-key-names", data, m, {
        "exit_class": "OK", "upserts": [up("e1@example.com", plan="free")]},
        md="Keys spelled with \\u escapes are the same keys.")


def headers():
    m = mapping("email", "email", [("name", "name")])
    data = b"email,name,\na@example.com,Ann,\nb@example.com,Bob\nc@example.com,Cy,x\n"
    case("header-trailing-delimiter", data, m, {
        "exit_class": "PARTIAL",
        "upserts": [up("a@example.com", name="Ann"), up("c@example.com", name="Cy")],
        "dead_letter": [dl(3, "b@example.com,Bob", "field", "2", "3")]},
        md="A header ending in a delimiter has an empty third column; rows must have 3 "
           "fields.")

    m = mapping("Full, Name", None, [("e\"x", "ex")])
    data = b'"Full, Name","e""x"\n"Ann, A",1\n'
    case("header-quoted-names", data, m, {
        "exit_class": "OK", "upserts": [up("Ann, A", ex="1")]},
        md="Quoted header names with a comma and an escaped quote.")


def http():
    m = mapping("email", "email", [("plan", "plan")])
    data = b"email,plan\n" + b"".join(f"g{i}@example.com,p{i}\n".encode() for i in range(1, 16))
    server = KEY + rule(nth_request=4, for_ms=200, status=503, headers={"Retry-After": "2"},
                        body='{"statusCode":503,"message":"Service Unavailable"}')
    case("http-503-global-pause", data, m, {
        "args": ["--concurrency", "4", "--max-retries", "5", "--timeout", "5s"],
        "exit_class": "OK",
        "upserts": [up(f"g{i}@example.com", plan=f"p{i}") for i in range(1, 16)],
        "requests": {"status_count": {"503": {"min": 1}},
                     "quiet_after_first_status": [{"status": 503, "from_ms": 100,
                                                   "to_ms": 2000}]},
        "dry_run": False},
        server=server,
        md="503 with Retry-After for several keys at once: global pause.")

    data = b"email,plan\nt1@example.com,free\nt2@example.com,pro\n"
    server = KEY + rule(primary_key="t1@example.com", attempt=1, status=200, delay_ms=1200)
    case("http-slow-within-timeout", data, m, {
        "args": ["--concurrency", "1", "--timeout", "2s", "--max-retries", "3"],
        "exit_class": "OK",
        "upserts": [up("t1@example.com", plan="free"), up("t2@example.com", plan="pro")],
        "requests": {"total": 2}, "dry_run": False},
        server=server,
        md="An answer after 1.2 s with --timeout 2s is not a timeout: no retry.")

    data = b"email,plan\nz1@example.com,free\nz2@example.com,pro\n"
    server = KEY + rule(primary_key="z1@example.com", attempt=1, status=429,
                        headers={"Retry-After": "0"}, body='{"statusCode":429}')
    case("http-429-retry-after-zero", data, m, {
        "args": ["--concurrency", "1", "--max-retries", "2"],
        "exit_class": "OK",
        "upserts": [up("z1@example.com", plan="free"), up("z2@example.com", plan="pro")],
        "requests": {"total": 3, "per_key": {"z1@example.com": 2},
                     "gaps": [{"key": "z1@example.com", "after_attempt": 1,
                               "from": "answered", "max_ms": 5000}]},
        "dry_run": False},
        server=server,
        md="Retry-After: 0 means retry now (after at most the usual backoff).")


if __name__ == "__main__":
    boundaries()
    encodings()
    headers()
    http()
