"""Variants for: email, empty cells, huge field, no type guessing, NUL bytes, numbers."""
import json
from lib import case, up, upd, dl, mapping, KEY_TERMS, EMPTY_TERMS, NUL_TERMS

WS_OR_VALUE = lambda v: {"any_of": [v, "white space", "whitespace", "space", "tab", "control"]}


def emails():
    m = mapping("email", "email", [("name", "name"), ("email", "email", 'type = "email"\n'
                                                        'lowercase = true')],
                pk_extra="lowercase = true")
    rows = [
        ("\u3000Ideo@Example.com\u3000", "Ideo", "ideo@example.com"),
        ("\u2003em@example.com\u2003", "Em", "em@example.com"),
        ("\u00a0nb@example.com\u00a0", "Nb", "nb@example.com"),
        ("\t\tTAB@EXAMPLE.COM \t", "Tab", "tab@example.com"),
        ("ok+tag@sub.example.co.uk", "Ok", "ok+tag@sub.example.co.uk"),
        ("ÅSA@EXAMPLE.COM", "Asa", "åsa@example.com"),
        ("a@b.c", "Short", "a@b.c"),
        ("dot@example.com.", "Dot", None),
        ("a@b..c", "Dots", None),
        ("a@.example.com", "Lead", None),
        ("@example.com", "NoLocal", None),
        ("x@localhost", "Local", None),
        ("ta\tb@example.com", "InTab", "ws"),
        ("e@exa mple.com", "InSpace", "ws"),
        ("a@b@c.com", "TwoAt", None),
        ("ctl\x07x@example.com", "Bell", "ctl"),
        ("nbsp\u00a0in@example.com", "NbspIn", "ws"),
        ("user@", "NoDomain", None),
    ]
    lines = ["email,name"]
    ups, dls = [], []
    for i, (cell, name, want) in enumerate(rows, 2):
        raw = f"{cell},{name}"
        lines.append(raw)
        if want is None:
            dls.append(dl(i, raw, "email", cell.strip()))
        elif want == "ws":
            dls.append(dl(i, raw, "email", WS_OR_VALUE(cell)))
        elif want == "ctl":
            dls.append(dl(i, raw, "email", {"any_of": [cell, "control", "0x07", "\\u0007",
                                                        "u+0007", "\\x07", "bell"]}))
        else:
            ups.append(up(want, name=name, email=want))
    data = ("\n".join(lines) + "\n").encode()
    case("email-unicode-space-and-shapes", data, m, {
        "exit_class": "PARTIAL", "upserts": ups, "dead_letter": dls,
        "notes": ["U+3000, U+2003, U+00A0 and tabs around an address are removed; inside "
                  "they reject it.",
                  "A trailing dot, `..`, a leading dot in the domain: empty labels.",
                  "lowercase = true lowercases non-ASCII letters too (ÅSA -> åsa)."]},
        md="Email shapes: Unicode spaces around (removed) and inside (rejected), empty domain "
           "labels, missing parts, control characters.")

    # email as a property with a string key; whitespace-only -> empty -> on_empty null
    m = mapping("id", None, [("work", "workEmail", 'type = "email"\non_empty = "null"'),
                             ("home", "homeEmail", 'type = "email"')])
    data = ("id,work,home\n"
            "c1,\" Mixed@Example.COM \",\n"
            "c2,\"   \",\t\n"
            "c3,\u0085nel@example.com\u0085,h@example.com\n"
            "c4,w@example.com,\"h @example.com\"\n"
            "c5,w@example.com,h@example..com\n"
            "c6,\"\",\"\u3000\"\n").encode()
    case("email-as-property-empty-and-case", data, m, {
        "exit_class": "PARTIAL",
        "upserts": [up("c1", workEmail="Mixed@Example.COM"), up("c2", workEmail=None),
                    up("c3", workEmail="nel@example.com", homeEmail="h@example.com"),
                    up("c6", workEmail=None)],
        "dead_letter": [dl(5, 'c4,w@example.com,"h @example.com"', "home",
                           WS_OR_VALUE("h @example.com")),
                        dl(6, "c5,w@example.com,h@example..com", "home", "h@example..com")],
        "notes": ["Without lowercase the address keeps its case.",
                  "An email cell of white space only is empty after the type's own trimming.",
                  "U+0085 (NEL) is Unicode white space: removed around the address."]},
        md="Email-typed properties under a string key: case kept without lowercase, "
           "whitespace-only cells empty, bad shapes rejected.")


def empties():
    m = mapping("email", "email", [
        ("name", "name", 'on_empty = "null"'),
        ("score", "score", 'type = "number"\non_empty = "null"'),
        ("active", "active", 'type = "boolean"\non_empty = "null"'),
        ("joined", "joined", 'type = "date"\non_empty = "null"'),
        ("tags", "tags", 'type = "array"\nseparator = ";"\non_empty = "null"'),
        ("note", "note", 'trim = true'),
        ("raw", "raw"),
    ])
    data = (b"email,name,score,active,joined,tags,note,raw\n"
            b"e1@example.com,Eli,3,yes,2024-01-02,a;b,hello,  x  \n"
            b"e2@example.com,,,,,,,\n"
            b'e3@example.com,"","","","","","",""\n'
            b'e4@example.com,"   ",,,,,"  ","   "\n'
            b"e5@example.com,Eva,,no,,,  hi  ,\n")
    case("empty-null-several-columns", data, m, {
        "exit_class": "OK",
        "upserts": [
            up("e1@example.com", name="Eli", score=3, active=True, joined="2024-01-02",
               tags=["a", "b"], note="hello", raw="  x  "),
            up("e2@example.com", name=None, score=None, active=None, joined=None, tags=None),
            up("e3@example.com", name=None, score=None, active=None, joined=None, tags=None),
            up("e4@example.com", name="   ", score=None, active=None, joined=None, tags=None,
               raw="   "),
            up("e5@example.com", name="Eva", score=None, active=False, joined=None, tags=None,
               note="hi"),
        ],
        "notes": ["A string column without trim keeps a whitespace-only value (it is not empty).",
                  "Empty cells of every type follow on_empty = null; never a previous row's "
                  "value."]},
        md="on_empty = null on string, number, boolean, date and array columns; whitespace-only "
           "cells in untrimmed string columns are values.")

    m = mapping("id", None, [("plan", "plan")], pk_extra="trim = true")
    data = (b"id,plan\n"
            b"k1,free\n"
            b'"",pro\n'
            b"   ,team\n"
            b",free\n"
            b"k2,\n"
            b'" k3 ",pro\n')
    case("empty-key-variants", data, m, {
        "exit_class": "PARTIAL",
        "upserts": [up("k1", plan="free"), upd("k2", {}), up("k3", plan="pro")],
        "dead_letter": [dl(3, '"",pro', EMPTY_TERMS, {"any_of": ["primary key", "primary_key",
                                                                  "primary-key", "id"]}),
                        dl(4, "   ,team", EMPTY_TERMS, {"any_of": ["primary key", "primary_key",
                                                                   "primary-key", "id"]}),
                        dl(5, ",free", EMPTY_TERMS, {"any_of": ["primary key", "primary_key",
                                                                "primary-key", "id"]})]},
        md="String primary key with trim: quoted empty, whitespace-only and empty keys are "
           "dead-lettered, never filled from the row before.")

    m = mapping("email", "email", [("plan", "plan", 'on_empty = "null"'),
                                   ("seats", "seats", 'type = "number"'),
                                   ("city", "city", 'trim = true\non_empty = "null"')],
                source='format = "ndjson"')
    lines = ['{"email":"n1@example.com","plan":"pro","seats":3,"city":"Oslo"}',
             '{"email":"n2@example.com"}',
             '{"email":"n3@example.com","plan":null,"seats":null,"city":"   "}',
             '{"email":"n4@example.com","plan":"","seats":"","city":""}',
             '{"email":"","plan":"free"}',
             '{"email":"   ","plan":"free"}']
    data = ("\n".join(lines) + "\n").encode()
    case("empty-ndjson-null-missing", data, m, {
        "exit_class": "PARTIAL",
        "upserts": [up("n1@example.com", plan="pro", seats=3, city="Oslo"),
                    up("n2@example.com", plan=None, city=None),
                    up("n3@example.com", plan=None, city=None),
                    up("n4@example.com", plan=None, city=None)],
        "dead_letter": [dl(5, lines[4], EMPTY_TERMS, {"any_of": ["primary key", "primary_key",
                                                                 "primary-key", "email"]}),
                        dl(6, lines[5], EMPTY_TERMS, {"any_of": ["primary key", "primary_key",
                                                                 "primary-key", "email"]})]},
        md="NDJSON: missing keys, null and empty strings are empty; they follow on_empty and "
           "never reuse the previous line's values.")


def body_len(key, value, prop="notes"):
    return len(json.dumps({"primary_key": key, "properties": {prop: value}},
                          separators=(",", ":"), ensure_ascii=False).encode())


LIMIT = 102400
SIZE_TERMS = [{"any_of": ["exceed", "too large", "too big", "larger than", "over the", "limit"]},
              {"any_of": ["102400", "102 400", "102,400", "100 kb", "100kb", "100 kib",
                          "100kib"]}]
SERVER = 'api_key = "ls_test_key"\nmax_body_bytes = 102400\n'


def huge():
    m = mapping("email", "email", [("notes", "notes")])
    k1, k2, k3 = "at@example.com", "over@example.com", "small@example.com"
    n1 = LIMIT - body_len(k1, "")
    n2 = LIMIT + 1 - body_len(k2, "")
    v1, v2 = "y" * n1, "z" * n2
    assert body_len(k1, v1) == LIMIT and body_len(k2, v2) == LIMIT + 1
    r2 = f"{k2},{v2}"
    data = f"email,notes\n{k1},{v1}\n{r2}\n{k3},tiny\n".encode()
    case("huge-field-exact-boundary", data, m, {
        "exit_class": "PARTIAL",
        "upserts": [up(k1, notes=v1), up(k3, notes="tiny")],
        "never_sent_keys": [k2],
        "dead_letter": [dl(3, r2, *SIZE_TERMS)],
        "dry_run": True,
        "notes": ["Body sizes assume compact JSON (no spaces), as any JSON serialiser writes by "
                  "default: line 2's body is exactly 102400 bytes (sent, accepted), line 3's "
                  "102401 (never sent)."]},
        server=SERVER,
        md="Bodies of exactly 102400 bytes (allowed) and 102401 bytes (not sent).")

    # multi-byte and escaped characters: serialized size differs from the cell's length.
    ka, kb, kc, kd = "e1@example.com", "e2@example.com", "q1@example.com", "t1@example.com"
    va = "é" * 60000                       # 60000 chars, 120000 bytes
    nb = (LIMIT - body_len(kb, "")) // 2
    vb = "é" * nb                          # exactly at or one below the limit
    vc = '"' * 60000                       # 60000 bytes in the cell, 120000 escaped
    vd = "\t" * 60000                      # 60000 bytes, escaped as \t
    assert body_len(ka, va) > LIMIT and body_len(kb, vb) <= LIMIT
    assert body_len(kc, vc) > LIMIT and body_len(kd, vd) > LIMIT
    ra = f"{ka},{va}"
    rc = f'{kc},"{vc * 2}"'
    rd = f'{kd},"{vd}"'
    data = f"email,notes\n{ra}\n{kb},{vb}\n{rc}\n{rd}\nok@example.com,fine\n".encode()
    case("huge-field-multibyte-and-escapes", data, m, {
        "exit_class": "PARTIAL",
        "upserts": [up(kb, notes=vb), up("ok@example.com", notes="fine")],
        "never_sent_keys": [ka, kc, kd],
        "dead_letter": [dl(2, ra, *SIZE_TERMS), dl(4, rc, *SIZE_TERMS), dl(5, rd, *SIZE_TERMS)],
        "dry_run": True,
        "notes": ["The limit is on the request body in bytes: 60000 'é' are 120000 UTF-8 bytes; "
                  "60000 quotes or tabs are 120000 bytes once JSON-escaped."]},
        server=SERVER,
        md="The size check counts the serialised body's bytes, not characters or cell bytes.")

    # NDJSON: a long line whose body is small (escapes shrink), and a huge value.
    m = mapping("email", "email", [("notes", "notes")], source='format = "ndjson"')
    small = "\\u0041" * 20000              # 120000 bytes of source, 20000 chars
    big = "w" * 150000
    l1 = '{"email":"x1@example.com","notes":"' + small + '"}'
    l2 = '{"email":"x2@example.com","notes":"' + big + '"}'
    l3 = '{"email":"x3@example.com","notes":"ok"}'
    data = (l1 + "\n" + l2 + "\n" + l3 + "\n").encode()
    case("huge-ndjson-line-vs-body", data, m, {
        "exit_class": "PARTIAL",
        "upserts": [up("x1@example.com", notes="A" * 20000), up("x3@example.com", notes="ok")],
        "never_sent_keys": ["x2@example.com"],
        "dead_letter": [dl(2, l2, *SIZE_TERMS)],
        "dry_run": True,
        "notes": ["Line 1 is 120 KB of source but its body is 20 KB: it must be sent."]},
        server=SERVER,
        md="NDJSON: the size rule is about the request body, not the input line.")


def no_guessing():
    m = mapping("id", None, [("price", "price"), ("neg", "neg"), ("exp", "exp"),
                             ("big", "big"), ("frac", "frac"), ("plain", "plain")],
                source='format = "ndjson"')
    lines = ['{"id":"n1","price":1.50,"neg":-0,"exp":1e5,"big":123456789012345678901234567890,'
             '"frac":1.0E+2,"plain":7}',
             '{"id":"n2","price":0.10,"neg":-0.0,"exp":2E-3,"big":-9007199254740993,'
             '"frac":100.000,"plain":"007"}']
    data = ("\n".join(lines) + "\n").encode()
    case("no-guess-ndjson-number-source-text", data, m, {
        "exit_class": "OK",
        "upserts": [
            up("n1", price="1.50", neg="-0", exp="1e5", big="123456789012345678901234567890",
               frac="1.0E+2", plain="7"),
            up("n2", price="0.10", neg="-0.0", exp="2E-3", big="-9007199254740993",
               frac="100.000", plain="007")],
        "notes": ["'A JSON number mapped to a string attribute is sent as its exact source "
                  "text.'"]},
        md="NDJSON numbers mapped to string attributes keep their exact source text.")

    m = mapping("id", None, [("id2", "code")], source='format = "ndjson"')
    lines = ['{"id":1.50,"id2":"a"}', '{"id":42,"id2":"b"}', '{"id":1e2,"id2":"c"}']
    data = ("\n".join(lines) + "\n").encode()
    case("no-guess-ndjson-numeric-key", data, m, {
        "exit_class": "OK",
        "upserts": [up("1.50", code="a"), up("42", code="b"), up("1e2", code="c")],
        "notes": ["The primary key is a string: a JSON number there is its exact source text."]},
        md="NDJSON numeric primary keys are sent as their source text.")

    m = mapping("id", None, [("a", "a"), ("b", "b"), ("c", "c"), ("d", "d"), ("e", "e"),
                             ("f", "f"), ("g", "g"), ("h", "h")])
    data = (b"id,a,b,c,d,e,f,g,h\n"
            b'0001,1.50,-0,1e5,true,False,  007  ,"[1,2]",NULL\n'
            b'0002,"{}",2024-01-01,0x10,"1,5",yes,-,"""x""",undefined\n')
    case("no-guess-csv-more", data, m, {
        "exit_class": "OK",
        "upserts": [
            up("0001", a="1.50", b="-0", c="1e5", d="true", e="False", f="  007  ", g="[1,2]",
               h="NULL"),
            up("0002", a="{}", b="2024-01-01", c="0x10", d="1,5", e="yes", f="-", g='"x"',
               h="undefined")],
        "notes": ["No type: every cell is sent as its exact text, spaces included."]},
        md="Untyped columns: numbers, booleans, JSON-looking and null-looking cells stay text.")


def nul_bytes():
    m = mapping("id", None, [("name", "name")])
    data = (b"id,name\n"
            b"k1,Ann\n"
            b"k\x002,Bob\n"
            b'"k3\x00",Cy\n'
            b"k4,Dee\n")
    case("nul-in-key-column", data, m, {
        "exit_class": "PARTIAL",
        "upserts": [up("k1", name="Ann"), up("k4", name="Dee")],
        "dead_letter": [dl(3, b"k\x002,Bob", NUL_TERMS), dl(4, b'"k3\x00",Cy', NUL_TERMS)]},
        md="NUL bytes in a string primary key (unquoted and quoted): dead-lettered.")

    m = mapping("email", "email", [("name", "name"), ("city", "city")])
    data = (b"email,name,city\n"
            b'a@example.com,"A,\x00b",Oslo\n'
            b"\x00\x00\x00\n"
            b"b@example.com,Bea,Bergen\n"
            b"c\x00@example.com,Cat,Kristiansand\n"
            b"z@example.com,Zed,Oslo\x00")
    case("nul-quoted-middle-and-last", data, m, {
        "exit_class": "PARTIAL",
        "upserts": [up("b@example.com", name="Bea", city="Bergen")],
        "dead_letter": [
            dl(2, b'a@example.com,"A,\x00b",Oslo', NUL_TERMS, "name"),
            dl(3, b"\x00\x00\x00", {"any_of": [NUL_TERMS, {"all_of": ["field", "1", "3"]}]}),
            dl(5, b"c\x00@example.com,Cat,Kristiansand", {"any_of": [NUL_TERMS, "control"]},
               "email"),
            dl(6, b"z@example.com,Zed,Oslo\x00", NUL_TERMS, "city")]},
        md="NUL inside a quoted field with a comma, a NUL-only line in the middle, NUL in an "
           "email key, NUL at the very end of the file.")

    m = mapping("email", "email", [("name", "name")], source='format = "ndjson"')
    lines = [b'{"email":"a@example.com","name":"Ann"}',
             b'{"email":"b@example.com","name":"B\\u0000b"}',
             b'{"email":"c@example.com","name":"C\x00c"}',
             b'{"email":"d@example.com","name":"Dee"}']
    data = b"\n".join(lines) + b"\n"
    case("nul-ndjson-escaped-and-raw", data, m, {
        "exit_class": "PARTIAL",
        "upserts": [up("a@example.com", name="Ann"), up("d@example.com", name="Dee")],
        "dead_letter": [dl(2, lines[1], NUL_TERMS),
                        dl(3, lines[2], {"any_of": [NUL_TERMS, "control", "invalid", "parse"]})]},
        md="NDJSON: an escaped \\u0000 in a value and a raw NUL byte inside a string "
           "(invalid JSON).")


def numbers():
    m = mapping("email", "email", [("score", "score", 'type = "number"')])
    rows = [("p1", "+5", 5), ("p2", ".5", 0.5), ("p3", "-.5", -0.5), ("p4", "5.", None),
            ("p5", "0x", None), ("p6", " 42 ", 42), ("p7", "\t42\t", 42),
            ("p8", "-9007199254740992", None), ("p9", "-9007199254740991", -9007199254740991),
            ("p10", "1E+3", 1000), ("p11", "1e-3", 0.001), ("p12", "00012", 12),
            ("p13", "+-5", None), ("p14", "5e", None), ("p15", "e5", None), ("p16", ".", None),
            ("p17", "-", None), ("p18", "1_000", None), ("p19", "\uff11\uff12", None),
            ("p20", "12abc", None), ("p21", "1.2.3", None), ("p22", "--5", None),
            ("p23", "+.5e-2", 0.005), ("p24", "4 2", None), ("p25", "9007199254740992.0",
                                                            9007199254740992),
            ("p26", "-0", 0), ("p27", "inf", None), ("p28", "1e", None),
            ("p29", "10000000000000000000", None), ("p30", "1.5e3", 1500)]
    lines = ["email,score"]
    ups, dls = [], []
    for i, (k, v, want) in enumerate(rows, 2):
        raw = f"{k}@example.com,{v}"
        lines.append(raw)
        if want is None:
            dls.append(dl(i, raw, "score", v.strip()))
        else:
            ups.append(up(f"{k}@example.com", score=want))
    data = ("\n".join(lines) + "\n").encode()
    case("number-edge-spellings", data, m, {
        "exit_class": "PARTIAL", "upserts": ups, "dead_letter": dls,
        "notes": ["Grammar [+-]?(digits[.digits] | .digits)([eE][+-]?digits)?: '5.', '5e', "
                  "'e5', '.', '-' do not match; '+5', '.5', '+.5e-2' do.",
                  "-9007199254740992 and 10000000000000000000 are integers above 2^53-1.",
                  "9007199254740992.0 has a fraction, so the integer limit does not apply."]},
        md="Number strictness: signs, bare dots, exponents, 2^53 limits, non-ASCII digits.")

    m = mapping("email", "email", [("score", "score", 'type = "number"')])
    data = b"email,score\nq1@example.com,1e400\nq2@example.com,-1e400\nq3@example.com,1\n"
    case("number-overflow-1e400", data, m, {
        "exit_class": "PARTIAL",
        "upserts": [up("q3@example.com", score=1)],
        "dead_letter": [dl(2, "q1@example.com,1e400", "score", "1e400"),
                        dl(3, "q2@example.com,-1e400", "score", "-1e400")],
        "notes": ["JUDGEMENT: 1e400 matches the grammar but is no finite number; JavaScript "
                  "reads it as Infinity (which the rules reject) and JSON cannot carry it. The "
                  "rule's intent (reject what the server would silently change) says reject."]},
        md="1e400 overflows every JSON number reader: rejected, not sent as null/Infinity.")

    m = mapping("email", "email", [("score", "score", 'type = "number"')],
                source='format = "ndjson"')
    lines = ['{"email":"j1@example.com","score":1.5}',
             '{"email":"j2@example.com","score":"42"}',
             '{"email":"j3@example.com","score":9007199254740993}',
             '{"email":"j4@example.com","score":"0x10"}',
             '{"email":"j5@example.com","score":" -7 "}',
             '{"email":"j6@example.com","score":-9007199254740991}',
             '{"email":"j7@example.com","score":"1,5"}']
    data = ("\n".join(lines) + "\n").encode()
    case("number-ndjson", data, m, {
        "exit_class": "PARTIAL",
        "upserts": [up("j1@example.com", score=1.5), up("j2@example.com", score=42),
                    up("j5@example.com", score=-7),
                    up("j6@example.com", score=-9007199254740991)],
        "dead_letter": [dl(3, lines[2], "score", "9007199254740993"),
                        dl(4, lines[3], "score", "0x10"),
                        dl(7, lines[6], "score", "1,5")]},
        md="NDJSON numbers: JSON numbers and numeric strings, the 2^53 rule on JSON integers.")


if __name__ == "__main__":
    emails()
    empties()
    huge()
    no_guessing()
    nul_bytes()
    numbers()
