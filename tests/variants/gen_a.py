"""Variants for: boolean spellings, line endings / last-column key, dates, duplicate headers."""
from lib import case, up, upd, dl, mapping, KEY_TERMS, EMPTY_TERMS


def booleans():
    m = mapping("email", "email", [("opted_in", "optedIn", 'type = "boolean"')])
    rows = [
        ("b1", "TrUe", True), ("b2", "YES", True), ("b3", "yEs", True), ("b4", "T", True),
        ("b5", "\ttrue\t", True), ("b6", '" Y "', True), ("b7", "N", False),
        ("b8", "f", False), ("b9", "FALSE", False), ("b10", " 0 ", False),
        ("b11", "No", False), ("b12", "\tnO", False), ("b13", "on", None),
        ("b14", "off", None), ("b15", "tru", None), ("b16", "yes!", None),
        ("b17", "1.0", None), ("b18", "-1", None), ("b19", "00", None),
        ("b20", "true false", None), ("b21", '"t r u e"', None), ("b22", "\"\"", "empty"),
    ]
    lines = ["email,opted_in"]
    ups, dls = [], []
    for i, (k, v, want) in enumerate(rows, 2):
        raw = f"{k}@example.com,{v}"
        lines.append(raw)
        if want is None:
            shown = v.strip('"')
            dls.append(dl(i, raw, "opted_in", shown))
        elif want == "empty":
            ups.append(upd(f"{k}@example.com", {}))
        else:
            ups.append(up(f"{k}@example.com", optedIn=want))
    data = ("\n".join(lines) + "\n").encode()
    case("bool-case-and-tabs", data, m, {
        "exit_class": "PARTIAL", "upserts": ups, "dead_letter": dls,
        "notes": ["Booleans: case-insensitive, surrounding white space (tabs too) ignored.",
                  "'1.0', '-1', '00', 'on', 'off' are none of the listed spellings."]},
        md="Boolean spellings in mixed case, with tabs and spaces around, and near-miss "
           "spellings that must be rejected.")

    # NDJSON: JSON booleans and strings, on_empty null.
    m2 = mapping("email", "email", [("opted_in", "optedIn", 'type = "boolean"\non_empty = "null"')],
                 source='format = "ndjson"')
    lines = [
        '{"email":"j1@example.com","opted_in":true}',
        '{"email":"j2@example.com","opted_in":false}',
        '{"email":"j3@example.com","opted_in":"Yes"}',
        '{"email":"j4@example.com","opted_in":" F "}',
        '{"email":"j5@example.com","opted_in":null}',
        '{"email":"j6@example.com"}',
        '{"email":"j7@example.com","opted_in":"maybe"}',
        '{"email":"j8@example.com","opted_in":""}',
        '{"email":"j9@example.com","opted_in":"TRUE\\t"}',
    ]
    data = ("\n".join(lines) + "\n").encode()
    case("bool-ndjson-values", data, m2, {
        "exit_class": "PARTIAL",
        "upserts": [up("j1@example.com", optedIn=True), up("j2@example.com", optedIn=False),
                    up("j3@example.com", optedIn=True), up("j4@example.com", optedIn=False),
                    up("j5@example.com", optedIn=None), up("j6@example.com", optedIn=None),
                    up("j8@example.com", optedIn=None), up("j9@example.com", optedIn=True)],
        "dead_letter": [dl(7, lines[6], "opted_in", "maybe")]},
        md="NDJSON booleans: JSON true/false, spelled strings, null/missing/empty with "
           "on_empty = null.")


def line_endings():
    m = mapping("email", "email", [("first_name", "firstName"),
                                   ("newsletter", "newsletter", 'type = "boolean"')])
    # CR only, key last, last line without a line break, one bad row to check line numbers.
    data = (b"first_name,newsletter,email\r"
            b"Mina,yes,mina.k@example.com\r"
            b"Oskar,maybe,oskar.l@example.com\r"
            b"Pia,no,pia.n@example.com")
    case("csv-cr-only-last-column-key", data, m, {
        "exit_class": "PARTIAL",
        "upserts": [up("mina.k@example.com", firstName="Mina", newsletter=True),
                    up("pia.n@example.com", firstName="Pia", newsletter=False)],
        "dead_letter": [dl(3, "Oskar,maybe,oskar.l@example.com", "newsletter", "maybe")]},
        md="Old-Mac CR-only line endings; the key is the last column; no final line break.")

    data = (b"first_name,newsletter,email\n"
            b"Mina,yes,mina.k@example.com\n"
            b"Oskar,no,\"oskar.l@example.com\"\n"
            b"Pia,yes,pia.n@example.com\n")
    case("csv-lf-last-column-key", data, m, {
        "exit_class": "OK",
        "upserts": [up("mina.k@example.com", firstName="Mina", newsletter=True),
                    up("oskar.l@example.com", firstName="Oskar", newsletter=False),
                    up("pia.n@example.com", firstName="Pia", newsletter=True)]},
        md="LF endings, key in the last column (one quoted).")

    data = (b"first_name,newsletter,email\r\n"
            b"Mina,yes,mina.k@example.com\n"
            b"Oskar,no,oskar.l@example.com\r"
            b"Ralf,perhaps,ralf@example.com\r\n"
            b"Pia,yes,\"pia.n@example.com\"\r\n")
    case("csv-mixed-line-endings", data, m, {
        "exit_class": "PARTIAL",
        "upserts": [up("mina.k@example.com", firstName="Mina", newsletter=True),
                    up("oskar.l@example.com", firstName="Oskar", newsletter=False),
                    up("pia.n@example.com", firstName="Pia", newsletter=True)],
        "dead_letter": [dl(4, "Ralf,perhaps,ralf@example.com", "newsletter", "perhaps")]},
        md="CRLF, LF and CR mixed in one file (records end at any of them); line numbers "
           "count each.")

    m3 = mapping("email", "email", [("first_name", "firstName"),
                                    ("vip", "vip", 'type = "boolean"')])
    data = (b"first_name,email,vip\r\n"
            b"Mina,mina.k@example.com,yes\r\n"
            b"Oskar,oskar.l@example.com,no\r\n"
            b"Pia,pia.n@example.com,1")
    case("csv-crlf-last-column-boolean-no-eol", data, m3, {
        "exit_class": "OK",
        "upserts": [up("mina.k@example.com", firstName="Mina", vip=True),
                    up("oskar.l@example.com", firstName="Oskar", vip=False),
                    up("pia.n@example.com", firstName="Pia", vip=True)]},
        md="CRLF with a typed (boolean) last column: `yes\\r` must not be read with its CR.")


def dates():
    m = mapping("email", "email", [("d", "d", 'type = "date"\nformat = "%Y/%m/%d"')])
    rows = [("a1", "2021/4/3", "2021-04-03"), ("a2", "2020/02/29", "2020-02-29"),
            ("a3", "2021/02/29", None), ("a4", "2021-04-03", None), ("a5", "2021/13/01", None),
            ("a6", "2000/02/29", "2000-02-29"), ("a7", "1900/02/29", None),
            ("a8", "2021/12/31", "2021-12-31"), ("a9", "2021/04/31", None),
            ("a10", "2021/04/03 10:00", None), ("a11", "2021/0/10", None)]
    date_case("date-format-ymd-slashes", m, rows, "%Y/%m/%d: one-digit month/day, leap days "
              "(2000 yes, 1900 no), impossible dates, wrong separators, trailing time.")

    m = mapping("email", "email", [("d", "d", 'type = "date"\nformat = "%m-%d-%Y"')])
    rows = [("u1", "12-31-1999", "1999-12-31"), ("u2", "2-29-2024", "2024-02-29"),
            ("u3", "02-30-2024", None), ("u4", "31-12-1999", None), ("u5", "2-29-2023", None),
            ("u6", "1-1-2000", "2000-01-01"), ("u7", "12/31/1999", None)]
    date_case("date-format-us-dashes", m, rows, "%m-%d-%Y (US order with dashes).")

    m = mapping("email", "email", [("d", "d", 'type = "date"\nformat = "%d.%m.%Y"')])
    rows = [("g1", "29.02.2024", "2024-02-29"), ("g2", "1.1.2000", "2000-01-01"),
            ("g3", "31.04.2021", None), ("g4", "01.01.2021x", None),
            ("g5", "29.02.2100", None), ("g6", "31.12.2023", "2023-12-31"),
            ("g7", "2023-12-31", None)]
    date_case("date-format-dotted", m, rows, "%d.%m.%Y (German order with dots).")

    m = mapping("email", "email", [("d", "d", 'type = "date"')])
    rows = [("i1", "2024-02-29", "2024-02-29"), ("i2", "2023-02-29", None),
            ("i3", "20240229", None), ("i4", "2024-02-29T00:00:00", None),
            ("i5", "2024/02/29", None), ("i6", "2024-13-01", None),
            ("i7", "0001-01-01", "0001-01-01"), ("i8", "2024-04-31", None)]
    date_case("date-iso-no-format", m, rows, "No format: only ISO YYYY-MM-DD, real dates.")

    m = mapping("email", "email", [("d", "d", 'type = "date"')])
    rows = [("s1", "2024-2-9", None), ("s2", "2024-02-09", "2024-02-09")]
    date_case("date-iso-one-digit-refused", m, rows,
              "No format: `2024-2-9` is not `YYYY-MM-DD` (one-digit parts are accepted only "
              "where a format has %m / %d).")

    # datetimes
    m = mapping("email", "email", [("t", "t", 'type = "datetime"\nformat = "%Y-%m-%d %H:%M"\n'
                                   'timezone = "Europe/Berlin"')])
    rows = [("z1", "2024-01-15 10:00", "2024-01-15T09:00:00Z"),
            ("z2", "2024-07-15 10:00", "2024-07-15T08:00:00Z"),
            ("z3", "2024-03-31 02:30", None),   # gap
            ("z4", "2024-10-27 02:30", None),   # overlap
            ("z5", "2024-03-31 03:00", "2024-03-31T01:00:00Z"),
            ("z6", "2024-10-27 03:00", "2024-10-27T02:00:00Z"),
            ("z7", "2024-10-27 01:59", "2024-10-26T23:59:00Z"),
            ("z8", "2024-03-31 01:59", "2024-03-31T00:59:00Z"),
            ("z9", "2024-01-01 00:30", "2023-12-31T23:30:00Z"),
            ("z10", "2024-02-30 10:00", None),
            ("z11", "2024-01-15T10:00", None)]
    date_case("datetime-berlin-dst", m, rows,
              "Datetime in Europe/Berlin: DST gap (02:30 on 2024-03-31) and overlap (02:30 on "
              "2024-10-27) refused, the minutes around them converted; year rollover in UTC.",
              col="t")

    m = mapping("email", "email", [("t", "t", 'type = "datetime"\nformat = "%m/%d/%Y %H:%M:%S"\n'
                                   'timezone = "America/New_York"')])
    rows = [("y1", "03/10/2024 01:59:59", "2024-03-10T06:59:59Z"),
            ("y2", "03/10/2024 02:00:00", None),
            ("y3", "03/10/2024 03:00:00", "2024-03-10T07:00:00Z"),
            ("y4", "11/03/2024 01:30:00", None),
            ("y5", "11/03/2024 02:00:00", "2024-11-03T07:00:00Z"),
            ("y6", "11/03/2024 00:59:59", "2024-11-03T04:59:59Z"),
            ("y7", "12/31/2024 20:00:00", "2025-01-01T01:00:00Z")]
    date_case("datetime-new-york-dst", m, rows,
              "Datetime in America/New_York: 02:00 on 2024-03-10 does not exist, 01:30 on "
              "2024-11-03 occurs twice.", col="t")

    m = mapping("email", "email", [("t", "t", 'type = "datetime"')])
    rows = [("r1", "2024-05-01T12:00:00+02:00", "2024-05-01T10:00:00Z"),
            ("r2", "2024-05-01T12:00:00Z", "2024-05-01T12:00:00Z"),
            ("r3", "2024-05-01T12:00:00", None),
            ("r4", "2024-05-01T12:00:00-05:30", "2024-05-01T17:30:00Z"),
            ("r5", "2024-12-31T23:30:00-01:00", "2025-01-01T00:30:00Z"),
            ("r6", "2024-02-30T00:00:00Z", None),
            ("r7", "2024-05-01", None),
            ("r8", "2024-05-01 12:00", None),
            ("r9", "2024-02-29T23:59:59+00:00", "2024-02-29T23:59:59Z")]
    date_case("datetime-rfc3339-offsets", m, rows,
              "No format: RFC 3339 with an offset only; values without one are refused.",
              col="t")


def date_case(name, m, rows, md, col="d"):
    lines = [f"email,{col}"]
    ups, dls = [], []
    for i, (k, v, want) in enumerate(rows, 2):
        raw = f"{k}@example.com,{v}"
        lines.append(raw)
        if want is None:
            dls.append(dl(i, raw, col, v))
        else:
            ups.append(upd(f"{k}@example.com", {col: want}))
    data = ("\n".join(lines) + "\n").encode()
    case(name, data, m, {"exit_class": "PARTIAL" if dls else "OK", "upserts": ups,
                         "dead_letter": dls}, md=md)


def headers():
    m = mapping("Email", "email", [("First Name", "firstName"), ("Mobile", "mobile")])
    data = (b"Email,Mobile,First Name,Mobile,Mobile,Notes\n"
            b"ola@example.com,+4790000001,Ola,+4790000002,+4790000009,a\n")
    case("dup-header-three-times", data, m, {
        "exit_class": "FATAL", "requests": {"total": 0},
        "output_must_name": ["Mobile", {"regex": r"\b2\b"}, {"regex": r"\b4\b"},
                             {"regex": r"\b5\b"}]},
        md="`Mobile` appears in columns 2, 4 and 5 and is mapped: FATAL naming it and its "
           "positions.")

    m = mapping("email", "email", [("name", "name")])
    data = (b"email,name,email\n"
            b"ola@example.com,Ola,ola2@example.com\n")
    case("dup-header-primary-key", data, m, {
        "exit_class": "FATAL", "requests": {"total": 0},
        "output_must_name": ["email", {"regex": r"\b1\b[\s\S]*\b3\b|\b3\b[\s\S]*\b1\b"}]},
        md="The primary-key column `email` appears twice (columns 1 and 3): FATAL.")

    m = mapping("email", "email", [("name", "name")])
    data = (b"email,,name,,x,x,Name\n"
            b"ola@example.com,1,Ola,2,3,4,OLA\n"
            b"per@example.com,,Per,,,,PER\n")
    case("dup-header-unmapped-ok", data, m, {
        "exit_class": "OK",
        "upserts": [up("ola@example.com", name="Ola"), up("per@example.com", name="Per")]},
        md="Empty header cells and a repeated `x` that the mapping does not use are fine; "
           "`Name` differs from `name`.")

    m = mapping("email", "email", [("name", "name"), ("phone", "phone"), ("x", "x")])
    data = (b"email,name,x,x\n"
            b"ola@example.com,Ola,1,2\n")
    case("header-missing-and-repeated", data, m, {
        "exit_class": "FATAL", "requests": {"total": 0},
        "output_must_name": ["phone", {"regex": r"\bx\b"}]},
        md="The mapping names `phone` (missing) and `x` (repeated): FATAL naming both.")


if __name__ == "__main__":
    booleans()
    line_endings()
    dates()
    headers()
