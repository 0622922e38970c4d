"""Second round of variants, aimed at the seams the first round left untested."""
import json
from lib import case, up, upd, dl, mapping, b64, EMPTY_TERMS, NUL_TERMS
from gen_b import SIZE_TERMS, body_len
from gen_d import rule, KEY, R429, E500

ENC = {"any_of": ["utf-8", "utf8", "encoding", "invalid", "utf-16", "surrogate"]}


def encoding_round2():
    m = mapping("email", "email", [("name", "name"), ("score", "score", 'type = "number"')],
                source='format = "csv"\nencoding = "windows-1252"')
    bad = b"rene@example.fr,Ren\xe9,1,5"
    bad = b'rene@example.fr,Ren\xe9,"1,5"'
    data = b"email,name,score\r\n" + b"ana@example.fr,Ana \x80,3\r\n" + bad + b"\r\n"
    case("encoding-windows-1252-dead-letter-raw", data, m, {
        "exit_class": "PARTIAL",
        "upserts": [up("ana@example.fr", name="Ana €", score=3)],
        "dead_letter": [dl(3, bad, "score", "1,5")],
        "notes": ["The dead-letter raw is the record's original bytes (windows-1252 E9), "
                  "not its decoded text: 'the original record exactly as it was in the file "
                  "(raw bytes, even when they are not valid UTF-8)'."]},
        md="A dead-lettered windows-1252 record keeps its original bytes.")

    m = mapping("email", "email", [("first_name", "firstName"),
                                   ("vip", "vip", 'type = "boolean"')])
    bad = "tomas.ruiz@example.net,Tomás,maybe".encode("utf-16-le")
    data = (b"\xff\xfe" + "email,first_name,vip\r\n".encode("utf-16-le") +
            "ines@example.org,Inès,yes\r\n".encode("utf-16-le") + bad +
            "\r\n".encode("utf-16-le"))
    case("bom-utf16le-dead-letter-raw", data, m, {
        "exit_class": "PARTIAL",
        "upserts": [up("ines@example.org", firstName="Inès", vip=True)],
        "dead_letter": [{"line": 3, "must_name": ["vip", "maybe"], "raw_base64": b64(bad)}],
        "notes": ["STRICT READING: raw is 'the original record exactly as it was in the file "
                  "(raw bytes)': for a UTF-16 file, its UTF-16 bytes."]},
        md="A dead-lettered record of a UTF-16 LE file: raw holds its original bytes.")

    m = mapping("email", "email", [("name", "name")],
                source='format = "csv"\nencoding = "windows-1252"')
    data = b"\xef\xbb\xbfemail,name\r\nrene@example.fr,Ren\xe9\r\n"
    case("bom-utf8-declared-windows-1252", data, m, {
        "exit_class": "OK", "upserts": [up("rene@example.fr", name="René")],
        "notes": ["'A byte order mark at the very start of the file (UTF-8 or UTF-16) is "
                  "removed' - whatever encoding the mapping declares."]},
        md="A UTF-8 BOM in front of a file declared windows-1252 is still removed.")

    m = mapping("email", "email", [("plan", "plan")], source='format = "ndjson"')
    text = ('{"email":"k1@example.com","plan":"frée"}\r\n'
            '{"email":"k2@example.com","plan":"pro"}\r\n')
    for enc, bom, name in (("utf-16-le", b"\xff\xfe", "bom-utf16le-ndjson"),
                           ("utf-16-be", b"\xfe\xff", "bom-utf16be-ndjson")):
        case(name, bom + text.encode(enc), m, {
            "exit_class": "OK",
            "upserts": [up("k1@example.com", plan="frée"), up("k2@example.com", plan="pro")]},
            md="NDJSON in UTF-16 with a BOM and no declared encoding.")

    m = mapping("email", "email", [("name", "name")],
                source='format = "csv"\nencoding = "windows-1252"')
    data = b"email,name\nrene@example.fr,Ren\xe9 \x80\n"
    variants = [{"id": lab.strip().replace(" ", "_") or "x",
                 "replace": [['encoding = "windows-1252"', f'encoding = "{lab}"']]}
                for lab in ("cp1252", "Windows-1252", "WINDOWS-1252", "x-cp1252", "ascii",
                            "us-ascii", "l1", "ISO_8859-1", "latin1")]
    case("encoding-label-variants", data, m, {
        "exit_class": "OK", "upserts": [up("rene@example.fr", name="René €")],
        "mapping_variants": variants,
        "notes": ["WHATWG labels are case-insensitive; all of these name windows-1252 "
                  "(the product README promises any WHATWG label)."]},
        md="Other spellings of the windows-1252 label.")


def ndjson_round2():
    m = mapping("email", "email", [("plan", "plan")], source='format = "ndjson"')
    lines = ['["m6@example.com","free"]',
             '{"email":"a@example.com","plan":"free"}',
             '{"email":"b@example.com","plan":"pro"}']
    data = ("\n".join(lines) + "\n").encode()
    case("ndjson-first-line-array", data, m, {
        "exit_class": "PARTIAL",
        "upserts": [up("a@example.com", plan="free"), up("b@example.com", plan="pro")],
        "dead_letter": [dl(1, lines[0], "object")],
        "notes": ["Only line 1 is not an object; the file is NDJSON (lines 2-3 are objects), "
                  "not a JSON array as a whole: 'otherwise that line is dead-lettered'."]},
        md="An NDJSON file whose first line happens to be an array: that line is "
           "dead-lettered, the rest imported.")

    lines = ["", "   ", '[1, 2, 3]',
             '{"email":"a@example.com","plan":"free"}']
    data = ("\n".join(lines) + "\n").encode()
    case("ndjson-first-record-array-after-blanks", data, m, {
        "exit_class": "PARTIAL",
        "upserts": [up("a@example.com", plan="free")],
        "dead_letter": [dl(3, lines[2], "object")]},
        md="Blank lines, then a one-line array, then an object: the array line alone is "
           "dead-lettered.")

    deep = '{"email":"x@example.com","a":' + "[" * 200000
    lines = ['{"email":"a@example.com","plan":"free"}', deep,
             '{"email":"b@example.com","plan":"pro"}']
    data = ("\n".join(lines) + "\n").encode()
    case("ndjson-deep-unterminated-nesting", data, m, {
        "exit_class": "PARTIAL",
        "upserts": [up("a@example.com", plan="free"), up("b@example.com", plan="pro")],
        "never_sent_keys": ["x@example.com"],
        "dead_letter": [dl(2, deep, {"any_of": ["invalid", "truncated", "eof", "end of",
                                                "parse", "recursion", "nest", "deep",
                                                "malformed", "incomplete"]})]},
        md="200 000 open brackets on one line: dead-lettered, no crash.")

    nested = '{"email":"y@example.com","plan":"deep","a":' + "[" * 300 + "]" * 300 + "}"
    data = (nested + "\n").encode()
    case("ndjson-deep-valid-nesting", data, m, {
        "exit_class": "OK",
        "upserts": [up("y@example.com", plan="deep")],
        "notes": ["JUDGEMENT: the line is one valid JSON object with no repeated key; the "
                  "rules give no nesting limit, so it is imported (the deep value is not even "
                  "mapped)."]},
        md="A valid object with a 300-level nested array in an unmapped key.")

    case("ndjson-empty-file", b"", m, {"exit_class": "OK"},
         md="An empty NDJSON file: nothing to do, OK.")
    case("ndjson-only-blank-lines", b"\n  \r\n\t\n", m, {"exit_class": "OK"},
         md="Only blank lines: all skipped, OK.")

    m = mapping("email", "email", [("tags", "tags", 'type = "array"'),
                                   ("meta", "meta", 'type = "json"')],
                source='format = "ndjson"')
    lines = ['{"email":"a1@example.com","tags":["x",1,{"k":true}],"meta":[1,2]}',
             '{"email":"a2@example.com","tags":"x,y"}',
             '{"email":"a3@example.com","tags":[],"meta":{}}',
             '{"email":"a4@example.com","tags":null,"meta":false}',
             '{"email":"a5@example.com","tags":{"0":"x"}}']
    data = ("\n".join(lines) + "\n").encode()
    case("ndjson-array-and-json-types", data, m, {
        "exit_class": "PARTIAL",
        "upserts": [up("a1@example.com", tags=["x", 1, {"k": True}], meta=[1, 2]),
                    up("a3@example.com", tags=[], meta={}),
                    up("a4@example.com", meta=False)],
        "dead_letter": [dl(2, lines[1], "tags", "array"), dl(5, lines[4], "tags", "array")]},
        md="NDJSON array must be a JSON array; json passes anything through.")


def csv_round2():
    m = mapping("email", "email", [("name", "name"), ("vip", "vip", 'type = "boolean"')])
    data = (b"email,name,vip\n"
            b"\n"
            b"a@example.com,Ann,yes\r\n"
            b"\r\n"
            b"\r"
            b"b@example.com,Bob,maybe\n"
            b"\n\n"
            b"c@example.com,Cy,no\n"
            b"\n")
    case("csv-blank-lines-skipped", data, m, {
        "exit_class": "PARTIAL",
        "upserts": [up("a@example.com", name="Ann", vip=True),
                    up("c@example.com", name="Cy", vip=False)],
        "dead_letter": [dl(6, "b@example.com,Bob,maybe", "vip", "maybe")],
        "notes": ["Blank lines (LF, CRLF, CR) are skipped, never dead-lettered, and count in "
                  "line numbers."]},
        md="Blank lines of every ending between CSV records.")

    m = mapping("email", "email", [("name", "name"), ("notes", "notes")])
    data = (b"email,name,notes\n"
            b'a@example.com, "Hal",x\n'
            b'b@example.com,Bo, "said ""hi"""\n'
            b"c@example.com,Cy,ok\n")
    case("quote-after-space-ordinary", data, m, {
        "exit_class": "OK",
        "upserts": [up("a@example.com", name=' "Hal"', notes="x"),
                    up("b@example.com", name="Bo", notes=' "said ""hi"""'),
                    up("c@example.com", name="Cy", notes="ok")],
        "notes": ["A field starting with a space is unquoted; its quotes are in the middle of "
                  "an unquoted field, so they are ordinary characters, doubled ones too."]},
        md="Quotes after a leading space are ordinary characters.")

    m = mapping("email", "email", [("name", "name")])
    case("csv-header-only", b"email,name\n", m, {"exit_class": "OK"},
         md="A header and no records: OK, nothing sent.")
    case("csv-header-only-no-newline", b"email,name", m, {"exit_class": "OK"},
         md="A header without a line break and no records: OK.")
    case("csv-empty-file-fatal", b"", m, {
        "exit_class": "FATAL", "requests": {"total": 0},
        "output_must_name": [{"any_of": ["empty", "header", "email"]}]},
        md="An empty file has no header, so not the mapped columns: FATAL before sending.")

    m = mapping("email", "email", [("name", "name"), ("score", "score", 'type = "number"')],
                source='format = "csv"\ndelimiter = "§"')
    data = "email§name§score\na@example.com§Ann, A.§1\nb@example.com§\"B§b\"§2,5\n".encode()
    case("delimiter-multibyte-char", data, m, {
        "exit_class": "FATAL", "requests": {"total": 0},
        "output_must_name": ["delimiter"],
        "notes": ["The parser splits on one byte; a delimiter of two UTF-8 bytes is refused "
                  "before sending, with a message naming the delimiter."]},
        md="A one-character, two-byte delimiter (§).")

    m = mapping("email", "email", [("meta", "meta", 'type = "json"\non_empty = "null"')])
    data = (b"email,meta\n"
            b'j1@example.com,"{""a"":{""b"":[1,2]}}"\n'
            b'j2@example.com,"[1,""x""]"\n'
            b"j3@example.com,42\n"
            b"j4@example.com,true\n"
            b'j5@example.com,"""str"""\n'
            b"j6@example.com,{bad}\n"
            b'j7@example.com,"{""a"":1} x"\n'
            b"j8@example.com,\n"
            b'j9@example.com," 7 "\n')
    case("json-csv-cells", data, m, {
        "exit_class": "PARTIAL",
        "upserts": [up("j1@example.com", meta={"a": {"b": [1, 2]}}),
                    up("j2@example.com", meta=[1, "x"]), up("j3@example.com", meta=42),
                    up("j4@example.com", meta=True), up("j5@example.com", meta="str"),
                    up("j8@example.com", meta=None), up("j9@example.com", meta=7)],
        "dead_letter": [dl(7, "j6@example.com,{bad}", "meta"),
                        dl(8, 'j7@example.com,"{""a"":1} x"', "meta")]},
        md="json-typed CSV cells are parsed as JSON; text that is not one JSON value is "
           "rejected.")

    m = mapping("email", "email", [("tags", "tags", 'type = "array"\nseparator = "|"')])
    data = (b"email,tags\n"
            b"t1@example.com,a|b|c\n"
            b"t2@example.com, x | y \n"
            b'"t3@example.com","one, two|three"\n'
            b"t4@example.com,solo\n")
    case("array-csv-separator", data, m, {
        "exit_class": "OK",
        "upserts": [up("t1@example.com", tags=["a", "b", "c"]),
                    up("t2@example.com", tags=["x", "y"]),
                    up("t3@example.com", tags=["one, two", "three"]),
                    up("t4@example.com", tags=["solo"])]},
        md="Array cells split on a custom separator, each element trimmed.")


def dates_round2():
    m = mapping("email", "email", [("t", "t", 'type = "datetime"\n'
                                   'format = "%Y-%m-%d %H:%M:%S %z"\ntimezone = "Europe/Berlin"')])
    rows = [("o1", "2024-03-31 02:30:00 +0100", "2024-03-31T01:30:00Z"),
            ("o2", "2024-10-27 02:30:00 +0200", "2024-10-27T00:30:00Z"),
            ("o3", "2024-10-27 02:30:00 +0100", "2024-10-27T01:30:00Z"),
            ("o4", "2024-06-01 12:00:00 +0000", "2024-06-01T12:00:00Z")]
    lines = ["email,t"] + [f"{k}@example.com,{v}" for k, v, _ in rows]
    case("datetime-offset-in-value-wins", ("\n".join(lines) + "\n").encode(), m, {
        "exit_class": "OK",
        "upserts": [upd(f"{k}@example.com", {"t": w}) for k, _, w in rows],
        "notes": ["timezone is the 'zone of values that carry no offset': a value with an "
                  "offset names one instant, even at a DST gap or overlap of the zone."]},
        md="A datetime format with %z: the value's own offset decides, DST of the declared "
           "zone does not apply.")

    m = mapping("email", "email", [("t", "t", 'type = "datetime"')])
    data = b"email,t\nf1@example.com,2024-05-01T12:00:00.5Z\nf2@example.com,2024-05-01T12:00:00.999+02:00\n"
    case("datetime-fractional-seconds", data, m, {
        "exit_class": "OK",
        "upserts": [up("f1@example.com", t="2024-05-01T12:00:00Z"),
                    up("f2@example.com", t="2024-05-01T10:00:00Z")],
        "notes": ["JUDGEMENT: the rules fix the output as 'YYYY-MM-DDTHH:MM:SSZ'; a fraction "
                  "of a second does not fit that shape."]},
        md="RFC 3339 with fractional seconds: sent in the fixed YYYY-MM-DDTHH:MM:SSZ shape.")

    m = mapping("email", "email", [("d", "d", 'type = "date"\nformat = "%d %b %Y"')])
    rows = [("m1", "03 Apr 2021", "2021-04-03"), ("m2", "3 Apr 2021", "2021-04-03"),
            ("m3", "29 Feb 2023", None), ("m4", "3 Foo 2021", None),
            ("m5", "31 Dec 1999", "1999-12-31")]
    lines = ["email,d"]
    ups, dls = [], []
    for i, (k, v, w) in enumerate(rows, 2):
        raw = f"{k}@example.com,{v}"
        lines.append(raw)
        if w:
            ups.append(upd(f"{k}@example.com", {"d": w}))
        else:
            dls.append(dl(i, raw, "d", v))
    case("date-format-month-names", ("\n".join(lines) + "\n").encode(), m, {
        "exit_class": "PARTIAL", "upserts": ups, "dead_letter": dls},
        md="%d %b %Y with English month abbreviations.")

    m = mapping("email", "email", [("d", "d", 'type = "date"\nformat = "%Y-%m-%d"')])
    data = b"email,d\nx1@example.com,2024-2-9\nx2@example.com,2024-02-09\n"
    case("date-explicit-iso-format-one-digit", data, m, {
        "exit_class": "OK",
        "upserts": [up("x1@example.com", d="2024-02-09"), up("x2@example.com", d="2024-02-09")],
        "notes": ["With a format, 'one-digit day or month accepted where the format has %d / "
                  "%m'."]},
        md="An explicit %Y-%m-%d format accepts one-digit month and day.")


def mapping_round2():
    base = "email,name\na@example.com,Ann\n".encode()
    m = mapping("email", "email", [("name", "name", 'type = "datetime"\nformat = "%Y"\n'
                                   'timezone = "Mars/Olympus_Mons"')])
    case("mapping-bad-timezone", base, m, {
        "exit_class": "FATAL", "requests": {"total": 0},
        "output_must_name": ["Mars/Olympus_Mons"]},
        md="An unknown time zone is a mapping error: FATAL before sending.")
    m = mapping("email", "email", [("name", "name", 'type = "integer"')])
    case("mapping-unknown-type", base, m, {
        "exit_class": "FATAL", "requests": {"total": 0}, "output_must_name": ["integer"]},
        md="An unknown type is a mapping error: FATAL.")
    m = mapping("email", "email", [("name", "name")],
                source='format = "csv"\ndelimiter = ";;"')
    case("mapping-two-char-delimiter", base, m, {
        "exit_class": "FATAL", "requests": {"total": 0}, "output_must_name": ["delimiter"]},
        md="A two-character delimiter is a mapping error: FATAL.")
    m = mapping("email", "email", [("name", "name", 'on_empty = "clear"')])
    case("mapping-bad-on-empty", base, m, {
        "exit_class": "FATAL", "requests": {"total": 0}, "output_must_name": ["on_empty"]},
        md="An unknown on_empty value is a mapping error: FATAL.")
    m = mapping("email", "email", [("name", "name")],
                source='format = "csv"\nencoding = "klingon-8"')
    case("mapping-unknown-encoding", base, m, {
        "exit_class": "FATAL", "requests": {"total": 0}, "output_must_name": ["klingon-8"]},
        md="An unknown encoding label is a mapping error: FATAL.")


def http_round2():
    m = mapping("email", "email", [("notes", "notes")])
    big = "n" * 5000
    r2 = f"b@example.com,{big}"
    data = f"email,notes\na@example.com,short\n{r2}\nc@example.com,short\n".encode()
    case("huge-field-server-413", data, m, {
        "args": ["--concurrency", "1", "--max-retries", "3"],
        "exit_class": "PARTIAL",
        "upserts": [up("a@example.com", notes="short"), up("c@example.com", notes="short")],
        "also_sent": [up("b@example.com", notes=big)],
        "dead_letter": [dl(3, r2, "413")],
        "requests": {"per_key": {"b@example.com": {"max": 1}}},
        "dry_run": False,
        "notes": ["The server's limit (2000 bytes here) is below the importer's: the row is "
                  "sent once, gets 413 and is dead-lettered, never retried (a 4xx other than "
                  "429)."]},
        server='api_key = "ls_test_key"\nmax_body_bytes = 2000\n',
        md="A server with a smaller body limit answers 413: dead-letter, no retry.")

    m = mapping("email", "email", [("notes", "notes")])
    huge = "u" * 300000
    data = f"email,junk,notes\na@example.com,{huge},fine\nb@example.com,x,ok\n".encode()
    case("huge-field-unmapped-column", data, m, {
        "exit_class": "OK",
        "upserts": [up("a@example.com", notes="fine"), up("b@example.com", notes="ok")],
        "dry_run": True},
        server='api_key = "ls_test_key"\nmax_body_bytes = 102400\n',
        md="A 300 KB cell in a column the mapping does not use: the body is small, so it "
           "is sent.")

    m = mapping("email", "email", [("a", "a"), ("b", "b"), ("c", "c")])
    v = "v" * 40000
    raw = f"s@example.com,{v},{v},{v}"
    data = f"email,a,b,c\n{raw}\nt@example.com,1,2,3\n".encode()
    case("huge-field-several-columns", data, m, {
        "exit_class": "PARTIAL",
        "upserts": [up("t@example.com", a="1", b="2", c="3")],
        "never_sent_keys": ["s@example.com"],
        "dead_letter": [dl(2, raw, *SIZE_TERMS)],
        "dry_run": True},
        server='api_key = "ls_test_key"\nmax_body_bytes = 102400\n',
        md="Three 40 KB values: each fits, the body (120 KB) does not.")

    m = mapping("email", "email", [("plan", "plan")])
    data = b"email,plan\nr1@example.com,free\nr2@example.com,pro\nr3@example.com,team\n"
    server = KEY + rule(primary_key="r2@example.com", status=429, headers={"Retry-After": "1"},
                        body=R429)
    case("http-429-exhausted", data, m, {
        "args": ["--concurrency", "1", "--max-retries", "2"],
        "exit_class": "PARTIAL",
        "upserts": [up("r1@example.com", plan="free"), up("r3@example.com", plan="team")],
        "also_sent": [up("r2@example.com", plan="pro")],
        "dead_letter": [dl(3, "r2@example.com,pro", "429",
                           {"any_of": [{"all_of": ["3", {"any_of": ["attempt", "tries",
                                                                    "tried"]}]},
                                       {"all_of": ["2", "retr"]}]})],
        "requests": {"total": 5, "per_key": {"r2@example.com": 3},
                     "gaps": [{"key": "r2@example.com", "after_attempt": 1,
                               "from": "answered", "min_ms": 1000},
                              {"key": "r2@example.com", "after_attempt": 2,
                               "from": "answered", "min_ms": 1000}]},
        "max_wall_s": 20, "dry_run": False},
        server=server,
        md="429 on every attempt: bounded (3 attempts with --max-retries 2), each wait "
           "honouring Retry-After, then dead-lettered naming 429.")

    server = KEY + rule(primary_key="r2@example.com", attempt=1, status=502,
                        headers={"Retry-After": "2"}, body="bad gateway")
    case("http-5xx-retry-after-honoured", data, m, {
        "args": ["--concurrency", "1", "--max-retries", "3"],
        "exit_class": "OK",
        "upserts": [up("r1@example.com", plan="free"), up("r2@example.com", plan="pro"),
                    up("r3@example.com", plan="team")],
        "requests": {"total": 4, "per_key": {"r2@example.com": 2},
                     "gaps": [{"key": "r2@example.com", "after_attempt": 1,
                               "from": "answered", "min_ms": 2000, "max_ms": 10000}]},
        "dry_run": False,
        "notes": ["'Retry-After, in seconds or as an HTTP date, is honoured' - not only on "
                  "429 and 503."]},
        server=server,
        md="A 502 carrying Retry-After: 2 is retried no sooner than 2 s later.")

    server = KEY + rule(status=403, body='{"statusCode":403,"message":"Forbidden resource"}')
    case("http-403-fatal", data, m, {
        "args": ["--concurrency", "2", "--max-retries", "3"],
        "exit_class": "FATAL", "exit_code": 3,
        "also_sent": [up("r1@example.com", plan="free"), up("r2@example.com", plan="pro"),
                      up("r3@example.com", plan="team")],
        "requests": {"total": {"min": 1, "max": 3}},
        "output_must_name": [{"any_of": ["403", "forbidden"]}],
        "dry_run": False},
        server=server,
        md="403 stops the run (exit 3), not one dead letter per row.")

    data = (b"email,plan\n" + b"".join(f"n{i}@example.com,p{i}\n".encode() for i in range(1, 6)))
    server = KEY + rule(primary_key="n4@example.com", status=404,
                        body='{"statusCode":404,"message":"Customer not found"}')
    case("http-404-one-key-after-successes", data, m, {
        "args": ["--concurrency", "1", "--max-retries", "2"],
        "exit_class": "PARTIAL",
        "upserts": [up(f"n{i}@example.com", plan=f"p{i}") for i in (1, 2, 3, 5)],
        "also_sent": [up("n4@example.com", plan="p4")],
        "dead_letter": [dl(5, "n4@example.com,p4", "404")],
        "requests": {"total": 5, "per_key": {"n4@example.com": 1}},
        "dry_run": False,
        "notes": ["JUDGEMENT: three upserts to the same URL succeeded, so the endpoint exists; "
                  "a 404 for one key is a 4xx other than 429: 'other 4xx answers are not "
                  "retried' and only 401/403 and the no-primary-key 400 stop the run."]},
        server=server,
        md="After successes, one key gets 404: a row failure, not a wrong URL.")


if __name__ == "__main__":
    encoding_round2()
    ndjson_round2()
    csv_round2()
    dates_round2()
    mapping_round2()
    http_round2()
