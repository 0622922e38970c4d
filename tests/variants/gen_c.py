"""Variants for: quoted newlines, ragged rows, delimiters, unterminated quotes, BOMs,
declared encodings."""
from lib import case, up, upd, dl, mapping, KEY_TERMS, EMPTY_TERMS, b64

OPEN_TERMS = {"any_of": ["unterminated", "unclosed", "not closed", "never closed",
                         "end of file", "eof", "open", "missing"]}


def quoted_newlines():
    m = mapping("email", "email", [("name", "name"), ("notes", "notes"),
                                   ("vip", "vip", 'type = "boolean"')])
    data = (b"email,name,notes,vip\r\n"
            b'ada@example.com,Ada,"Prefers phone.\r\nCall after 5pm.",yes\r\n'
            b'cy@example.com,Cy,"Line one\r\nLine two\r\n",no\r\n'
            b'dee@example.com,Dee,"x\r\ny",maybe\r\n'
            b"eli@example.com,Eli,plain,1\r\n")
    case("quoted-crlf-inside", data, m, {
        "exit_class": "PARTIAL",
        "upserts": [up("ada@example.com", name="Ada", notes="Prefers phone.\r\nCall after 5pm.",
                       vip=True),
                    up("cy@example.com", name="Cy", notes="Line one\r\nLine two\r\n", vip=False),
                    up("eli@example.com", name="Eli", notes="plain", vip=True)],
        "dead_letter": [dl(7, 'dee@example.com,Dee,"x\r\ny",maybe', "vip", "maybe")],
        "notes": ["A quoted field keeps its line breaks exactly as in the file (CRLF).",
                  "Records start on lines 1, 2, 4, 7 and 9: a CRLF inside quotes is one line "
                  "break."]},
        md="CRLF file with CRLF inside quoted fields; a bad row after them checks line "
           "numbers and the multi-line raw.")

    data = (b"email,name,notes,vip\r"
            b'ada@example.com,Ada,"one\rtwo",yes\r'
            b'bo@example.com,Bo,"lf\ninside",no\r'
            b'cy@example.com,Cy,"x",nope\r'
            b"eli@example.com,Eli,plain,1")
    case("quoted-cr-only-file", data, m, {
        "exit_class": "PARTIAL",
        "upserts": [up("ada@example.com", name="Ada", notes="one\rtwo", vip=True),
                    up("bo@example.com", name="Bo", notes="lf\ninside", vip=False),
                    up("eli@example.com", name="Eli", notes="plain", vip=True)],
        "dead_letter": [dl(6, 'cy@example.com,Cy,"x",nope', "vip", "nope")]},
        md="CR-only file with a CR and an LF inside quoted fields; line numbers count both.")

    data = (b"email,name,notes,vip\n"
            b'ann@example.com,"Ann\nMarie","a,b\n\n""c""",true\n'
            b'bad@example.com,Bad,"multi\nline",2\n'
            b"ok@example.com,Ok,,f\n")
    case("quoted-multiline-dead-letter-raw", data, m, {
        "exit_class": "PARTIAL",
        "upserts": [up("ann@example.com", name="Ann\nMarie", notes='a,b\n\n"c"', vip=True),
                    upd("ok@example.com", {"name": "Ok", "vip": False})],
        "dead_letter": [dl(6, 'bad@example.com,Bad,"multi\nline",2', "vip", "2")]},
        md="Quoted fields with commas, blank lines and escaped quotes inside; a dead-lettered "
           "multi-line record keeps its raw text.")


def ragged():
    m = mapping("email", "email", [("first_name", "firstName"), ("last_name", "lastName"),
                                   ("company", "company")])
    data = (b"email,first_name,last_name,company\n"
            b"ivy@example.com,Ivy,Tran,Acme\n"
            b"max@example.com,Max,Roy,Umbrella\n"
            b"jon@example.com,Jon,Park")
    case("ragged-last-line-no-newline", data, m, {
        "exit_class": "PARTIAL",
        "upserts": [up("ivy@example.com", firstName="Ivy", lastName="Tran", company="Acme"),
                    up("max@example.com", firstName="Max", lastName="Roy", company="Umbrella")],
        "dead_letter": [dl(4, "jon@example.com,Jon,Park", "field", "3", "4")]},
        md="Short last record without a final line break.")

    data = (b"email,first_name,last_name,company\r\n"
            b"ivy@example.com,Ivy,Tran,Acme\r\n"
            b"kim@example.com,Kim,Doe,Initech,Extra\r\n"
            b"solo@example.com\r\n"
            b'quo@example.com,"Q, R",Lee,"A,B"\r\n'
            b'lou@example.com,Lou,"Ng,Globex"\r\n'
            b"max@example.com,Max,Roy,Umbrella,")
    case("ragged-crlf-quoted-and-last", data, m, {
        "exit_class": "PARTIAL",
        "upserts": [up("ivy@example.com", firstName="Ivy", lastName="Tran", company="Acme"),
                    up("quo@example.com", firstName="Q, R", lastName="Lee", company="A,B")],
        "dead_letter": [dl(3, "kim@example.com,Kim,Doe,Initech,Extra", "field", "5", "4"),
                        dl(4, "solo@example.com", "field", "1", "4"),
                        dl(6, 'lou@example.com,Lou,"Ng,Globex"', "field", "3", "4"),
                        dl(7, "max@example.com,Max,Roy,Umbrella,", "field", "5", "4")]},
        md="CRLF; long, 1-field and (quoted-comma) short rows; a long last row without a line "
           "break.")


def delimiters():
    m = mapping("E-Mail", "email", [("Vorname", "firstName"), ("Firma", "company"),
                                    ("Umsatz", "revenue", 'type = "number"')],
                source='format = "csv"\ndelimiter = "\\t"', pk_extra="lowercase = true")
    data = ("E-Mail\tVorname\tFirma\tUmsatz\n"
            "Anna@Example.de\tAnna\tBecker, Schmidt; Co\t1234\n"
            "jonas@example.de\tJonas\t\"Wolf\tSöhne\"\t99.90\n"
            "lea@example.de\tLea\tHoffmann AG\t12,5\n"
            "max@example.de\tMax\t \t 7 \n").encode()
    case("delimiter-tab", data, m, {
        "exit_class": "PARTIAL",
        "upserts": [up("anna@example.de", firstName="Anna", company="Becker, Schmidt; Co",
                       revenue=1234),
                    up("jonas@example.de", firstName="Jonas", company="Wolf\tSöhne",
                       revenue=99.9),
                    up("max@example.de", firstName="Max", company=" ", revenue=7)],
        "dead_letter": [dl(4, "lea@example.de\tLea\tHoffmann AG\t12,5", "Umsatz", "12,5")]},
        md='Tab delimiter written `delimiter = "\\t"`; commas and semicolons are data; a quoted '
           "tab stays in its field.")

    m = mapping("email", "email", [("name", "name"), ("tags", "tags",
                                                      'type = "array"\nseparator = ","')],
                source='format = "csv"\ndelimiter = "|"')
    data = (b"email|name|tags\r\n"
            b"p1@example.com|Pat|a, b ,c\r\n"
            b'p2@example.com|"Pipe | Inside"|x\r\n'
            b"p3@example.com|Pol|q|extra\r\n"
            b"p4@example.com|Pia,Ann|\r\n")
    case("delimiter-pipe", data, m, {
        "exit_class": "PARTIAL",
        "upserts": [up("p1@example.com", name="Pat", tags=["a", "b", "c"]),
                    up("p2@example.com", name="Pipe | Inside", tags=["x"]),
                    up("p4@example.com", name="Pia,Ann")],
        "dead_letter": [dl(4, "p3@example.com|Pol|q|extra", "field", "4", "3")]},
        md="Pipe delimiter, a quoted pipe, commas as data, an array column split on commas.")

    m = mapping("email", "email", [("Firma", "company")],
                source='format = "csv"\ndelimiter = ";"')
    data = (b"email;Firma\r"
            b'a@example.de;"Wolf; S\xc3\xb6hne\rGmbH"\r'
            b"b@example.de;Becker, Schmidt\r")
    case("delimiter-semicolon-cr-only", data, m, {
        "exit_class": "OK",
        "upserts": [up("a@example.de", company="Wolf; Söhne\rGmbH"),
                    up("b@example.de", company="Becker, Schmidt")]},
        md="Semicolon delimiter in a CR-only file with a quoted CR.")


def unterminated():
    m = mapping("email", "email", [("name", "name"), ("notes", "notes")])
    data = (b"email,name,notes\n"
            b"dan@example.com,Dan,ok\n"
            b"fay@example.com,Fay,fine\n"
            b'eve@example.com,Eve,"Wants a callback')
    case("unterminated-quote-last-line", data, m, {
        "exit_class": "PARTIAL",
        "upserts": [up("dan@example.com", name="Dan", notes="ok"),
                    up("fay@example.com", name="Fay", notes="fine")],
        "dead_letter": [dl(4, 'eve@example.com,Eve,"Wants a callback', "quote", OPEN_TERMS)]},
        md="The last line opens a quote and the file ends without a line break.")

    data = (b'email,name,"notes\n'
            b"dan@example.com,Dan,ok\n"
            b"fay@example.com,Fay,fine\n")
    case("unterminated-quote-header", data, m, {
        "exit_class": "FATAL", "requests": {"total": 0},
        "output_must_name": [{"any_of": ["quote", "notes", "header"]}]},
        md="The header line opens a quote that never closes: there is no usable header, the "
           "file as a whole is not CSV with the mapped columns (FATAL).")

    data = (b"email,name,notes\r\n"
            b"dan@example.com,Dan,ok\r\n"
            b'"eve@example.com,Eve,call\r\n'
            b"fay@example.com,Fay,ok\r\n")
    case("unterminated-quote-key-crlf", data, m, {
        "exit_class": "PARTIAL",
        "upserts": [up("dan@example.com", name="Dan", notes="ok")],
        "dead_letter": [dl(3, '"eve@example.com,Eve,call\r\nfay@example.com,Fay,ok', "quote",
                           OPEN_TERMS,
                           raw_alternatives=['"eve@example.com,Eve,call\r\nfay@example.com,'
                                             'Fay,ok\r\n',
                                             '"eve@example.com,Eve,call\r\nfay@example.com,'
                                             'Fay,ok\r'])]},
        md="CRLF file; the key field of line 3 opens a quote that never closes: one entry from "
           "line 3 to the end.")

    data = (b"email,name,notes\n"
            b'a@example.com,Hal,Screen is 6" wide\n'
            b'b@example.com,a"b"c,x""y\n'
            b"c@example.com,O'Neil,5'11\"\n"
            b'd@example.com,abc",end"\n')
    case("quote-mid-field-ordinary", data, m, {
        "exit_class": "OK",
        "upserts": [up("a@example.com", name="Hal", notes='Screen is 6" wide'),
                    up("b@example.com", name='a"b"c', notes='x""y'),
                    up("c@example.com", name="O'Neil", notes="5'11\""),
                    up("d@example.com", name='abc"', notes='end"')]},
        md="Quotes in the middle or at the end of unquoted fields are ordinary characters.")


def boms():
    m = mapping("email", "email", [("first_name", "firstName"), ("plan", "plan")])
    data = ("\ufeffemail,first_name,plan\n"
            "ines.moreau@example.org,Inès,pro\n"
            "tomas.ruiz@example.net,Tomás,free\n").encode()
    ups = [up("ines.moreau@example.org", firstName="Inès", plan="pro"),
           up("tomas.ruiz@example.net", firstName="Tomás", plan="free")]
    case("bom-utf8-unquoted-header", data, m, {"exit_class": "OK", "upserts": ups},
         md="UTF-8 BOM before an unquoted header.")

    text = ("email,first_name,plan\r\n"
            "ines.moreau@example.org,Inès,pro\r\n"
            "tomas.ruiz@example.net,Tomás,free\r\n")
    case("bom-utf16le", b"\xff\xfe" + text.encode("utf-16-le"), m,
         {"exit_class": "OK", "upserts": ups},
         md="UTF-16 LE with BOM, no encoding in the mapping: the BOM decides.")
    case("bom-utf16be", b"\xfe\xff" + text.encode("utf-16-be"), m,
         {"exit_class": "OK", "upserts": ups},
         md="UTF-16 BE with BOM, no encoding in the mapping: the BOM decides.")

    m2 = mapping("email", "email", [("first_name", "firstName"), ("plan", "plan")],
                 source='format = "csv"\nencoding = "utf-8"')
    data = ("\ufeff\"email\",first_name,plan\r\n"
            "ines.moreau@example.org,Inès,pro\r\n"
            "tomas.ruiz@example.net,\ufeffTomás,free\r\n").encode()
    case("bom-declared-utf8-and-inner-feff", data, m2, {
        "exit_class": "OK",
        "upserts": [up("ines.moreau@example.org", firstName="Inès", plan="pro"),
                    up("tomas.ruiz@example.net", firstName="\ufeffTomás", plan="free")],
        "notes": ["Only the BOM at the very start is removed; a U+FEFF inside a value is data."]},
        md="Declared utf-8 with a BOM: removed; a U+FEFF in a later value is kept.")

    text = ("email,first_name,plan\n"
            "ines.moreau@example.org,Inès,pro\n")
    bad = "tomas.ruiz@example.net,Tom".encode("utf-16-le") + b"\x00\xd8" + \
        "s,free".encode("utf-16-le")
    data = b"\xff\xfe" + text.encode("utf-16-le") + bad + "\n".encode("utf-16-le") + \
        "ana@example.net,Ana,team\n".encode("utf-16-le")
    case("bom-utf16le-lone-surrogate", data, m, {
        "exit_class": "PARTIAL",
        "upserts": [up("ines.moreau@example.org", firstName="Inès", plan="pro"),
                    up("ana@example.net", firstName="Ana", plan="team")],
        "dead_letter": [{"line": 3, "must_name": [], "raw_base64": b64(bad)}]},
        md="UTF-16 LE: a lone surrogate in line 3 is not valid UTF-16: only that record is "
           "dead-lettered, with its original bytes.")


def encodings():
    m = mapping("email", "email", [("name", "name"), ("note", "note")],
                source='format = "csv"\nencoding = "iso-8859-15"')
    data = (b"email,name,note\n"
            b"a@example.fr,\xa6imon \xbcuvre,Preis 20 \xa4\n"
            b"b@example.fr,\xb4ofia,\xbd \xbe \xa8 \xb8\n")
    case("encoding-iso-8859-15", data, m, {
        "exit_class": "OK",
        "upserts": [up("a@example.fr", name="Šimon Œuvre", note="Preis 20 €"),
                    up("b@example.fr", name="Žofia", note="œ Ÿ š ž")],
        "notes": ["ISO-8859-15 (WHATWG label iso-8859-15): A4 is €, A6 Š, A8 š, B4 Ž, B8 ž, "
                  "BC Œ, BD œ, BE Ÿ. The product README promises any WHATWG label."]},
        md="ISO-8859-15 declared.")

    m = mapping("email", "email", [("name", "name"), ("city", "city")],
                source='format = "csv"\nencoding = "windows-1250"')
    data = (b"email,name,city\r\n"
            b"a@example.cz,Ji\xf8\xed \xc8ern\xfd,Plze\xf2\r\n"
            b"b@example.pl,\xa3ukasz \x8clusarczyk,\xa3\xf3d\x9f\r\n")
    case("encoding-windows-1250", data, m, {
        "exit_class": "OK",
        "upserts": [up("a@example.cz", name="Jiří Černý", city="Plzeň"),
                    up("b@example.pl", name="Łukasz Ślusarczyk", city="Łódź")]},
        md="windows-1250 declared (Czech/Polish letters).")

    m = mapping("email", "email", [("name", "name"), ("city", "city")])
    r3 = b"rene@example.fr,Ren\xe9,Paris"
    r5 = b'olga@example.fr,"Ol\nga",Li\xffon'
    data = (b"email,name,city\n" +
            b"ana@example.fr,Ana,Lyon\n" + r3 + b"\n" +
            b"bea@example.fr,Bea,Nice\n" + r5 + b"\n" +
            b"cat@example.fr,Cat,Caen\n")
    case("encoding-invalid-utf8-default", data, m, {
        "exit_class": "PARTIAL",
        "upserts": [up("ana@example.fr", name="Ana", city="Lyon"),
                    up("bea@example.fr", name="Bea", city="Nice"),
                    up("cat@example.fr", name="Cat", city="Caen")],
        "dead_letter": [dl(3, r3, {"any_of": ["utf-8", "utf8", "encoding", "invalid"]}),
                        dl(5, r5, {"any_of": ["utf-8", "utf8", "encoding", "invalid"]})]},
        md="Default UTF-8 with stray Latin-1 bytes (one in a multi-line record): those records "
           "are dead-lettered with their raw bytes, nothing replaced.")

    m = mapping("email", "email", [("name", "name"), ("city", "city"), ("id", "legacyId")])
    data = (b"email,name,city,id,unused\n" + b"rene@example.fr,Rene,Paris,1,\xe9x\n" +
            b"ana@example.fr,Ana,Lyon,2,ok\n")
    case("encoding-invalid-utf8-unmapped-column", data, m, {
        "exit_class": "PARTIAL",
        "upserts": [up("ana@example.fr", name="Ana", city="Lyon", legacyId="2")],
        "dead_letter": [dl(2, b"rene@example.fr,Rene,Paris,1,\xe9x",
                           {"any_of": ["utf-8", "utf8", "encoding", "invalid"]})],
        "notes": ["'the record holding them is dead-lettered' - even when the bad byte sits in "
                  "a column the mapping does not use."]},
        md="An invalid UTF-8 byte in an unmapped column still dead-letters the record.")

    m = mapping("email", "email", [("name", "name")],
                source='format = "ndjson"\nencoding = "windows-1252"')
    data = (b'{"email":"a@example.fr","name":"Ren\xe9 \x80"}\n'
            b'{"email":"b@example.fr","name":"\x93Q\x94"}\n')
    case("encoding-ndjson-windows-1252", data, m, {
        "exit_class": "OK",
        "upserts": [up("a@example.fr", name="René €"), up("b@example.fr", name="“Q”")]},
        md="NDJSON declared windows-1252.")

    m = mapping("email", "email", [("name", "name")], source='format = "ndjson"')
    l2 = b'{"email":"b@example.fr","name":"Ren\xe9"}'
    data = b'{"email":"a@example.fr","name":"Ann"}\n' + l2 + b"\n" + \
        b'{"email":"c@example.fr","name":"C\xc3\xa9"}\n'
    case("encoding-ndjson-invalid-utf8", data, m, {
        "exit_class": "PARTIAL",
        "upserts": [up("a@example.fr", name="Ann"), up("c@example.fr", name="Cé")],
        "dead_letter": [dl(2, l2, {"any_of": ["utf-8", "utf8", "encoding", "invalid"]})]},
        md="NDJSON default UTF-8 with a Latin-1 byte on one line.")


if __name__ == "__main__":
    quoted_newlines()
    ragged()
    delimiters()
    unterminated()
    boms()
    encodings()
