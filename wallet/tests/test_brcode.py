"""PIX BR Codes: building them field by field, parsing them back, and refusing broken ones."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wallet.brcode import (
    MAX_AMOUNT_CENTAVOS,
    BrCode,
    BrCodeError,
    build,
    build_dynamic,
    build_static,
    crc16_ccitt_false,
    parse,
    parse_tlv,
)

# The static example of the Banco Central's BR Code manual.
MANUAL_KEY = "123e4567-e12b-12d1-a456-426655440000"
MANUAL_PAYLOAD = (
    "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-426655440000"
    "5204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D"
)
# A dynamic code from a third party's worked examples: GUI in upper case, CRC EEAB.
THIRD_PARTY_DYNAMIC_PAYLOAD = (
    "00020101021226770014BR.GOV.BCB.PIX2555pix.example.com/qr/93598be0-1bd0-4997-8318-"
    "81776a1d8a995204000053039865802BR5907EMPRESA6009SAO PAULO62070503***6304EEAB"
)
LOCATION = "pix.example.com/qr/v2/9d36b84fc70b478fb95c12729b90ca25"

property_test = settings(max_examples=200)


def with_crc(body: str) -> str:
    """Close ``body`` with a correct CRC field, as a well-behaved generator would."""
    body += "6304"
    return body + crc16_ccitt_false(body.encode("ascii"))


def assemble(fields: list[tuple[str, str]]) -> str:
    """Encode ``fields`` as TLV and close them with a correct CRC."""
    return with_crc("".join(f"{field_id}{len(value):02d}{value}" for field_id, value in fields))


def manual_fields_without_crc() -> list[tuple[str, str]]:
    return parse_tlv(MANUAL_PAYLOAD)[:-1]


def test_crc16_ccitt_false_matches_the_standard_check_value() -> None:
    assert crc16_ccitt_false(b"123456789") == "29B1"


def test_crc16_ccitt_false_of_nothing_is_the_initial_value() -> None:
    assert crc16_ccitt_false(b"") == "FFFF"


def test_it_rebuilds_the_static_example_of_the_manual() -> None:
    payload = build_static(key=MANUAL_KEY, merchant_name="Fulano de Tal", merchant_city="BRASILIA")

    assert payload == MANUAL_PAYLOAD


def test_it_parses_the_static_example_of_the_manual() -> None:
    code = parse(MANUAL_PAYLOAD)

    assert code == BrCode(
        key=MANUAL_KEY,
        location="",
        amount_centavos=None,
        merchant_name="Fulano de Tal",
        merchant_city="BRASILIA",
        txid="***",
        description="",
        one_time=False,
    )
    assert code.is_dynamic is False


def test_parse_tlv_splits_one_level_and_leaves_templates_whole() -> None:
    assert parse_tlv(MANUAL_PAYLOAD) == [
        ("00", "01"),
        ("26", "0014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-426655440000"),
        ("52", "0000"),
        ("53", "986"),
        ("58", "BR"),
        ("59", "Fulano de Tal"),
        ("60", "BRASILIA"),
        ("62", "0503***"),
        ("63", "1D3D"),
    ]


def test_it_parses_a_dynamic_code_with_an_upper_case_gui() -> None:
    code = parse(THIRD_PARTY_DYNAMIC_PAYLOAD)

    assert code == BrCode(
        location="pix.example.com/qr/93598be0-1bd0-4997-8318-81776a1d8a99",
        merchant_name="EMPRESA",
        merchant_city="SAO PAULO",
        one_time=True,
    )
    assert code.is_dynamic is True


def test_a_static_code_carries_amount_description_and_txid() -> None:
    payload = build_static(
        key="+5511987654321",
        merchant_name="Clinica Boa Vida",
        merchant_city="Campinas",
        amount_centavos=1990,
        txid="ATENDE42",
        description="20 tokens",
    )

    assert parse_tlv(payload)[:-1] == [
        ("00", "01"),
        ("26", "0014br.gov.bcb.pix0114+5511987654321020920 tokens"),
        ("52", "0000"),
        ("53", "986"),
        ("54", "19.90"),
        ("58", "BR"),
        ("59", "Clinica Boa Vida"),
        ("60", "Campinas"),
        ("62", "0508ATENDE42"),
    ]
    assert parse(payload) == BrCode(
        key="+5511987654321",
        amount_centavos=1990,
        merchant_name="Clinica Boa Vida",
        merchant_city="Campinas",
        txid="ATENDE42",
        description="20 tokens",
    )


def test_a_dynamic_code_is_one_time_and_points_at_its_location() -> None:
    payload = build_dynamic(
        location=LOCATION, merchant_name="Atende", merchant_city="SAO PAULO", amount_centavos=500
    )

    assert parse_tlv(payload)[:-1] == [
        ("00", "01"),
        ("01", "12"),
        ("26", f"0014br.gov.bcb.pix2554{LOCATION}"),
        ("52", "0000"),
        ("53", "986"),
        ("54", "5.00"),
        ("58", "BR"),
        ("59", "Atende"),
        ("60", "SAO PAULO"),
        ("62", "0503***"),
    ]
    assert parse(payload) == BrCode(
        location=LOCATION,
        amount_centavos=500,
        merchant_name="Atende",
        merchant_city="SAO PAULO",
        one_time=True,
    )


def test_a_dynamic_code_without_amount_leaves_out_field_54() -> None:
    payload = build_dynamic(location=LOCATION, merchant_name="Atende", merchant_city="SAO PAULO")

    assert "54" not in dict(parse_tlv(payload))
    assert parse(payload).amount_centavos is None


@pytest.mark.parametrize(
    ("centavos", "written"),
    [
        (1, "0.01"),
        (10, "0.10"),
        (100, "1.00"),
        (123456, "1234.56"),
        (MAX_AMOUNT_CENTAVOS, "9999999999.99"),
    ],
)
def test_the_amount_is_written_in_reais_with_two_decimals(centavos: int, written: str) -> None:
    payload = build_static(
        key=MANUAL_KEY, merchant_name="Atende", merchant_city="Recife", amount_centavos=centavos
    )

    assert dict(parse_tlv(payload))["54"] == written
    assert parse(payload).amount_centavos == centavos


@pytest.mark.parametrize("centavos", [0, -1, MAX_AMOUNT_CENTAVOS + 1])
def test_it_rejects_an_amount_out_of_range(centavos: int) -> None:
    with pytest.raises(BrCodeError):
        build_static(
            key=MANUAL_KEY, merchant_name="Atende", merchant_city="Recife", amount_centavos=centavos
        )


def test_it_rejects_a_boolean_amount() -> None:
    with pytest.raises(BrCodeError, match="whole number of centavos"):
        build_static(
            key=MANUAL_KEY, merchant_name="Atende", merchant_city="Recife", amount_centavos=True
        )


@pytest.mark.parametrize(("written", "centavos"), [("10", 1000), ("10.5", 1050), ("0.07", 7)])
def test_it_parses_amounts_written_with_fewer_decimals(written: str, centavos: int) -> None:
    fields = manual_fields_without_crc()
    fields.insert(4, ("54", written))

    assert parse(assemble(fields)).amount_centavos == centavos


@pytest.mark.parametrize("written", ["0.00", "1,50", "1.505", "-1.00", "12345678901.00"])
def test_parse_rejects_a_malformed_or_zero_amount(written: str) -> None:
    fields = manual_fields_without_crc()
    fields.insert(4, ("54", written))

    with pytest.raises(BrCodeError):
        parse(assemble(fields))


def test_it_strips_accents_from_name_city_and_description() -> None:
    payload = build_static(
        key=MANUAL_KEY,
        merchant_name="José Açaí Ltda",
        merchant_city="São Paulo",
        description="Sessão de terapia 🙂",
    )

    code = parse(payload)
    assert (code.merchant_name, code.merchant_city, code.description) == (
        "Jose Acai Ltda",
        "Sao Paulo",
        "Sessao de terapia",
    )


def test_it_cuts_the_name_to_25_characters() -> None:
    payload = build_static(
        key=MANUAL_KEY, merchant_name="Clinica de Psicologia Bem Estar", merchant_city="Recife"
    )

    assert parse(payload).merchant_name == "Clinica de Psicologia Bem"


def test_it_cuts_the_city_to_15_characters_without_a_trailing_space() -> None:
    payload = build_static(
        key=MANUAL_KEY, merchant_name="Atende", merchant_city="Rio de Janeiro RJ"
    )

    assert parse(payload).merchant_city == "Rio de Janeiro"


def test_it_keeps_the_case_of_the_city() -> None:
    payload = build_static(key=MANUAL_KEY, merchant_name="Atende", merchant_city="Belo Horizonte")

    assert parse(payload).merchant_city == "Belo Horizonte"


@pytest.mark.parametrize("name", ["", "   ", "🙂🙂"])
def test_it_rejects_a_name_with_nothing_left_in_ascii(name: str) -> None:
    with pytest.raises(BrCodeError, match="merchant name is empty"):
        build_static(key=MANUAL_KEY, merchant_name=name, merchant_city="Recife")


def test_it_accepts_a_txid_of_25_letters_and_digits() -> None:
    txid = "Ab3" * 8 + "Z"

    payload = build_static(
        key=MANUAL_KEY, merchant_name="Atende", merchant_city="Recife", txid=txid
    )

    assert parse(payload).txid == txid


@pytest.mark.parametrize("txid", ["", "pedido-42", "pedido 42", "pedição42", "A" * 26, "**"])
def test_it_rejects_an_invalid_txid(txid: str) -> None:
    with pytest.raises(BrCodeError, match="txid"):
        build_static(key=MANUAL_KEY, merchant_name="Atende", merchant_city="Recife", txid=txid)


@pytest.mark.parametrize("key", ["", "   "])
def test_a_static_code_needs_a_key(key: str) -> None:
    with pytest.raises(BrCodeError, match="needs a PIX key"):
        build_static(key=key, merchant_name="Atende", merchant_city="Recife")


def test_a_static_code_rejects_a_key_outside_ascii() -> None:
    with pytest.raises(BrCodeError, match="printable ASCII"):
        build_static(key="joão@example.com", merchant_name="Atende", merchant_city="Recife")


def test_a_dynamic_code_needs_a_location() -> None:
    with pytest.raises(BrCodeError, match="needs a location"):
        build_dynamic(location="", merchant_name="Atende", merchant_city="Recife")


def test_a_dynamic_code_refuses_a_location_with_scheme() -> None:
    with pytest.raises(BrCodeError, match="without scheme"):
        build_dynamic(
            location=f"https://{LOCATION}", merchant_name="Atende", merchant_city="Recife"
        )


def test_a_code_cannot_have_both_key_and_location() -> None:
    with pytest.raises(BrCodeError, match="either a key"):
        build(BrCode(key=MANUAL_KEY, location=LOCATION, merchant_name="A", merchant_city="B"))


def test_a_dynamic_code_cannot_carry_a_description() -> None:
    with pytest.raises(BrCodeError, match="description"):
        build(BrCode(location=LOCATION, merchant_name="A", merchant_city="B", description="x"))


def test_it_rejects_a_merchant_account_longer_than_99_characters() -> None:
    # 18 for the GUI, 4 + 77 for the longest e-mail key: no room left for a description.
    key = "a" * 65 + "@example.com"

    with pytest.raises(BrCodeError, match="Field 26 would hold 105 characters"):
        build_static(key=key, merchant_name="Atende", merchant_city="Recife", description="Oi")


def test_it_rejects_a_location_too_long_for_the_merchant_account() -> None:
    with pytest.raises(BrCodeError, match="Field 26 would hold 100 characters"):
        build_dynamic(location="p" * 78, merchant_name="Atende", merchant_city="Recife")


def test_a_flipped_character_fails_the_crc() -> None:
    tampered = MANUAL_PAYLOAD.replace("Fulano", "Fulana")

    with pytest.raises(BrCodeError) as refused:
        parse(tampered)

    content_crc = crc16_ccitt_false(tampered[:-4].encode("ascii"))
    assert content_crc != "1D3D"
    assert str(refused.value) == f"CRC mismatch: the code says 1D3D, its content {content_crc}."


def test_a_wrong_crc_fails() -> None:
    with pytest.raises(BrCodeError) as refused:
        parse(MANUAL_PAYLOAD[:-4] + "1D3E")

    assert str(refused.value) == "CRC mismatch: the code says 1D3E, its content 1D3D."


def test_a_lower_case_crc_is_accepted() -> None:
    assert parse(MANUAL_PAYLOAD[:-4] + "1d3d") == parse(MANUAL_PAYLOAD)


@property_test
@given(
    position=st.integers(0, len(MANUAL_PAYLOAD) - 5), character=st.sampled_from(string.printable)
)
def test_any_changed_character_before_the_crc_is_caught(position: int, character: str) -> None:
    if MANUAL_PAYLOAD[position] == character:
        return
    tampered = MANUAL_PAYLOAD[:position] + character + MANUAL_PAYLOAD[position + 1 :]

    with pytest.raises(BrCodeError):
        parse(tampered)


@pytest.mark.parametrize("cut", [1, 4, 8, 20, len(MANUAL_PAYLOAD) - 1])
def test_a_truncated_payload_fails(cut: int) -> None:
    with pytest.raises(BrCodeError):
        parse(MANUAL_PAYLOAD[:-cut])


def test_a_payload_without_its_crc_field_fails() -> None:
    with pytest.raises(BrCodeError, match="does not end with its CRC"):
        parse(MANUAL_PAYLOAD[:-8])


def test_parse_ignores_surrounding_whitespace() -> None:
    assert parse(f"  {MANUAL_PAYLOAD}\n") == parse(MANUAL_PAYLOAD)


def test_parse_tlv_rejects_a_header_that_is_not_digits() -> None:
    with pytest.raises(BrCodeError, match="Malformed TLV header 'AB01'"):
        parse_tlv("AB01x")


def test_parse_tlv_rejects_a_value_running_past_the_end() -> None:
    with pytest.raises(BrCodeError, match="Field 59 at position 0 is cut short"):
        parse_tlv("5913Fulano")


@pytest.mark.parametrize("field_id", ["26", "52", "53", "58", "59", "60", "62"])
def test_parse_rejects_a_code_missing_a_mandatory_field(field_id: str) -> None:
    fields = [(i, value) for i, value in manual_fields_without_crc() if i != field_id]

    with pytest.raises(BrCodeError):
        parse(assemble(fields))


def test_parse_rejects_a_code_that_does_not_start_with_the_payload_format() -> None:
    fields = manual_fields_without_crc()

    with pytest.raises(BrCodeError, match="payload format indicator"):
        parse(assemble([*fields[1:], fields[0]]))


def test_parse_rejects_a_code_in_another_currency() -> None:
    fields = [(i, "840" if i == "53" else value) for i, value in manual_fields_without_crc()]

    with pytest.raises(BrCodeError, match="currency 840"):
        parse(assemble(fields))


def test_parse_rejects_a_repeated_field() -> None:
    fields = manual_fields_without_crc()
    fields.insert(5, ("59", "Outro Nome"))

    with pytest.raises(BrCodeError, match="Field 59 appears twice"):
        parse(assemble(fields))


def test_parse_rejects_a_code_of_another_arrangement() -> None:
    fields = [
        (i, "0012br.gov.other0105chave" if i == "26" else value)
        for i, value in manual_fields_without_crc()
    ]

    with pytest.raises(BrCodeError, match="no PIX merchant account"):
        parse(assemble(fields))


def test_parse_finds_the_pix_account_beside_another_arrangement() -> None:
    fields = manual_fields_without_crc()
    fields[1] = ("27", fields[1][1])
    fields.insert(1, ("26", "0012br.gov.other0105chave"))

    assert parse(assemble(fields)).key == MANUAL_KEY


def test_parse_rejects_a_pix_account_with_both_key_and_location() -> None:
    account = f"0014br.gov.bcb.pix0136{MANUAL_KEY}2510pix.ex/q/1"
    fields = [(i, account if i == "26" else value) for i, value in manual_fields_without_crc()]

    with pytest.raises(BrCodeError, match="either a key"):
        parse(assemble(fields))


def test_parse_rejects_a_code_longer_than_512_characters() -> None:
    fields = manual_fields_without_crc()
    fields[-1:-1] = [(f"{80 + i}", "x" * 99) for i in range(4)]

    with pytest.raises(BrCodeError, match="longer than 512"):
        parse(assemble(fields))


def test_parse_skips_fields_it_does_not_know() -> None:
    fields = manual_fields_without_crc()
    fields.insert(-1, ("80", "0011qualquer coisa"))

    assert parse(assemble(fields)) == parse(MANUAL_PAYLOAD)


def test_parse_reads_point_of_initiation_11_as_reusable() -> None:
    fields = manual_fields_without_crc()
    fields.insert(1, ("01", "11"))

    assert parse(assemble(fields)).one_time is False


def test_parse_rejects_an_unknown_point_of_initiation() -> None:
    fields = manual_fields_without_crc()
    fields.insert(1, ("01", "13"))

    with pytest.raises(BrCodeError, match="point of initiation"):
        parse(assemble(fields))


def test_parse_rejects_characters_outside_ascii() -> None:
    with pytest.raises(BrCodeError, match="printable ASCII"):
        parse(MANUAL_PAYLOAD.replace("Fulano de Tal", "Fulano de Tál"))


# Fields as the builder writes them: already ASCII, trimmed, within limits.
def ascii_text(alphabet: str, max_size: int) -> st.SearchStrategy[str]:
    return st.text(alphabet=alphabet, min_size=1, max_size=max_size).filter(
        lambda text: text == text.strip()
    )


NAMES = ascii_text(string.ascii_letters + string.digits + " .&-", 25)
CITIES = ascii_text(string.ascii_letters + " ", 15)
KEYS = ascii_text(string.ascii_letters + string.digits + "@.+-", 40)
DESCRIPTIONS = st.just("") | ascii_text(string.ascii_letters + string.digits + " ,.!", 30)
LOCATIONS = st.text(alphabet=string.ascii_lowercase + string.digits, min_size=1, max_size=50).map(
    lambda path: f"pix.example.com/qr/v2/{path}"
)
TXIDS = st.just("***") | st.from_regex(r"[A-Za-z0-9]{1,25}", fullmatch=True)
AMOUNTS = st.none() | st.integers(1, MAX_AMOUNT_CENTAVOS)


@property_test
@given(
    key=KEYS,
    name=NAMES,
    city=CITIES,
    amount=AMOUNTS,
    txid=TXIDS,
    description=DESCRIPTIONS,
    one_time=st.booleans(),
)
def test_a_static_code_round_trips(
    key: str,
    name: str,
    city: str,
    amount: int | None,
    txid: str,
    description: str,
    one_time: bool,
) -> None:
    code = BrCode(
        key=key,
        amount_centavos=amount,
        merchant_name=name,
        merchant_city=city,
        txid=txid,
        description=description,
        one_time=one_time,
    )

    payload = build(code)

    assert parse(payload) == code
    assert build(parse(payload)) == payload


@property_test
@given(location=LOCATIONS, name=NAMES, city=CITIES, amount=AMOUNTS, txid=TXIDS)
def test_a_dynamic_code_round_trips(
    location: str, name: str, city: str, amount: int | None, txid: str
) -> None:
    payload = build_dynamic(
        location=location,
        merchant_name=name,
        merchant_city=city,
        amount_centavos=amount,
        txid=txid,
    )

    assert parse(payload) == BrCode(
        location=location,
        amount_centavos=amount,
        merchant_name=name,
        merchant_city=city,
        txid=txid,
        one_time=True,
    )


@property_test
@given(name=st.text(max_size=60), city=st.text(max_size=60))
def test_any_name_and_city_become_ascii_within_limits_or_are_refused(name: str, city: str) -> None:
    try:
        payload = build_static(key=MANUAL_KEY, merchant_name=name, merchant_city=city)
    except BrCodeError as error:
        assert "is empty once reduced to ASCII" in str(error)
        return

    code = parse(payload)
    assert code.merchant_name.isascii() and 1 <= len(code.merchant_name) <= 25
    assert code.merchant_city.isascii() and 1 <= len(code.merchant_city) <= 15
