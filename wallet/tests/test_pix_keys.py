"""PIX keys: which ones are valid, how they are written for the DICT, and how they are masked."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import translation

from wallet.pix_keys import InvalidPixKey, PixKeyType, mask_pix_key, normalize_pix_key


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    # The messages are asserted in their source language, whatever the catalog says.
    with translation.override("en"):
        yield


def refusal(key_type: str, key: str) -> str:
    """The message ``normalize_pix_key`` refuses ``key`` with."""
    with pytest.raises(InvalidPixKey) as refused:
        normalize_pix_key(key_type, key)
    return str(refused.value)


def test_the_key_types_are_the_five_the_dict_registers() -> None:
    assert [(choice.value, str(choice.label)) for choice in PixKeyType] == [
        ("cpf", "CPF"),
        ("cnpj", "CNPJ"),
        ("email", "E-mail"),
        ("phone", "Mobile phone"),
        ("random", "Random key"),
    ]


def test_invalid_pix_key_is_a_value_error() -> None:
    assert issubclass(InvalidPixKey, ValueError)


@pytest.mark.parametrize(
    ("typed", "normalized"),
    [
        ("529.982.247-25", "52998224725"),
        ("52998224725", "52998224725"),
        (" 529 982 247 25 ", "52998224725"),
        ("123.456.789-09", "12345678909"),
        ("111.444.777-35", "11144477735"),
    ],
)
def test_it_accepts_a_valid_cpf_and_keeps_only_its_digits(typed: str, normalized: str) -> None:
    assert normalize_pix_key(PixKeyType.CPF, typed) == normalized


@pytest.mark.parametrize("cpf", ["529.982.247-26", "529.982.247-15", "123.456.789-90"])
def test_it_rejects_a_cpf_with_wrong_check_digits(cpf: str) -> None:
    assert refusal(PixKeyType.CPF, cpf) == "This CPF is not valid: check the digits."


@pytest.mark.parametrize("digit", "0123456789")
def test_it_rejects_a_cpf_of_one_repeated_digit(digit: str) -> None:
    # These pass the check digits, so only the explicit rule keeps them out.
    assert refusal(PixKeyType.CPF, digit * 11) == "This CPF is not valid: check the digits."


@pytest.mark.parametrize("cpf", ["5299822472", "529982247250", "529.982.247-2a", "529/982/247-25"])
def test_it_rejects_a_cpf_that_is_not_11_digits(cpf: str) -> None:
    assert refusal(PixKeyType.CPF, cpf) == "A CPF has 11 digits."


@pytest.mark.parametrize(
    ("typed", "normalized"),
    [
        ("11.222.333/0001-81", "11222333000181"),
        ("11222333000181", "11222333000181"),
        ("12.ABC.345/01DE-35", "12ABC34501DE35"),
        ("12.abc.345/01de-35", "12ABC34501DE35"),
    ],
)
def test_it_accepts_a_valid_cnpj_and_keeps_only_its_characters(typed: str, normalized: str) -> None:
    assert normalize_pix_key(PixKeyType.CNPJ, typed) == normalized


@pytest.mark.parametrize(
    "cnpj", ["11.222.333/0001-82", "11.222.333/0002-81", "12.ABC.345/01DF-35", "00000000000000"]
)
def test_it_rejects_a_cnpj_with_wrong_check_digits(cnpj: str) -> None:
    assert refusal(PixKeyType.CNPJ, cnpj) == "This CNPJ is not valid: check the digits."


@pytest.mark.parametrize(
    "cnpj", ["1122233300018", "112223330001811", "12ABC34501DE3A", "11*222*333/0001-81"]
)
def test_it_rejects_a_cnpj_that_is_not_14_characters(cnpj: str) -> None:
    assert refusal(PixKeyType.CNPJ, cnpj) == "A CNPJ has 14 characters."


def test_it_lower_cases_an_email_key() -> None:
    assert (
        normalize_pix_key(PixKeyType.EMAIL, " Joao.Silva@Example.COM ") == "joao.silva@example.com"
    )


def test_it_accepts_an_email_of_77_characters() -> None:
    email = "a" * 65 + "@example.com"

    assert normalize_pix_key(PixKeyType.EMAIL, email) == email


def test_it_rejects_an_email_longer_than_77_characters() -> None:
    email = "a" * 66 + "@example.com"

    assert refusal(PixKeyType.EMAIL, email) == "An e-mail PIX key has at most 77 characters."


@pytest.mark.parametrize(
    "email", ["joao", "joao@", "@example.com", "joao@example", "joao silva@example.com"]
)
def test_it_rejects_an_invalid_email(email: str) -> None:
    assert refusal(PixKeyType.EMAIL, email) == "Enter a valid e-mail address."


@pytest.mark.parametrize(
    "phone",
    [
        "+5511987654321",
        "+55 (11) 98765-4321",
        "+55 11 98765 4321",
        "(11) 98765-4321",
        "11987654321",
        "5511987654321",
    ],
)
def test_it_writes_a_mobile_number_in_e164(phone: str) -> None:
    assert normalize_pix_key(PixKeyType.PHONE, phone) == "+5511987654321"


@pytest.mark.parametrize(
    "phone",
    [
        "(11) 3456-7890",  # a landline
        "(11) 8765-4321",  # a mobile without its ninth digit
        "(11) 88765-4321",  # nine digits not starting with 9
        "+1 415 555 2671",  # not Brazilian
        "+55 11 98765-432",  # one digit short
        "11 98765-432a",
    ],
)
def test_it_rejects_what_is_not_a_brazilian_mobile_number(phone: str) -> None:
    assert refusal(PixKeyType.PHONE, phone) == (
        "Enter a Brazilian mobile number: area code and 9 digits starting with 9."
    )


@pytest.mark.parametrize("area_code", ["10", "20", "52", "90"])
def test_it_rejects_an_area_code_that_does_not_exist(area_code: str) -> None:
    phone = f"({area_code}) 98765-4321"

    assert refusal(PixKeyType.PHONE, phone) == "This area code (DDD) does not exist."


def test_it_lower_cases_a_random_key() -> None:
    key = "123E4567-E12B-12D1-A456-426655440000"

    assert normalize_pix_key(PixKeyType.RANDOM, key) == "123e4567-e12b-12d1-a456-426655440000"


@pytest.mark.parametrize(
    "key",
    [
        "123e4567e12b12d1a456426655440000",  # no hyphens
        "123e4567-e12b-12d1-a456-42665544000",  # one short
        "123e4567-e12b-12d1-a456-42665544000g",  # not hexadecimal
        "123e456-7e12b-12d1-a456-426655440000",  # hyphens misplaced
        "{123e4567-e12b-12d1-a456-426655440000}",
    ],
)
def test_it_rejects_a_random_key_that_is_not_a_uuid(key: str) -> None:
    assert refusal(PixKeyType.RANDOM, key) == (
        "A random key has 36 characters: 32 hexadecimal digits and 4 hyphens."
    )


@pytest.mark.parametrize("key_type", list(PixKeyType))
@pytest.mark.parametrize("key", ["", "   "])
def test_it_asks_for_a_key_when_none_is_given(key_type: str, key: str) -> None:
    assert refusal(key_type, key) == "Enter a PIX key."


def test_it_rejects_an_unknown_key_type() -> None:
    assert refusal("iban", "BR1800360305000010009795493C1") == "Unknown PIX key type."


def test_it_accepts_the_key_type_as_a_plain_string() -> None:
    assert normalize_pix_key("cpf", "529.982.247-25") == "52998224725"


@pytest.mark.parametrize(
    ("key_type", "key", "masked"),
    [
        (PixKeyType.CPF, "123.456.789-09", "***.456.789-**"),
        (PixKeyType.CPF, "52998224725", "***.982.247-**"),
        (PixKeyType.CNPJ, "11.222.333/0001-81", "**.222.333/0001-**"),
        (PixKeyType.EMAIL, "Joao.Silva@Example.com", "j***@example.com"),
        (PixKeyType.PHONE, "(11) 98765-4321", "+55 11 9****-4321"),
        (PixKeyType.RANDOM, "123E4567-E12B-12D1-A456-426655440000", "123e4567…"),
    ],
)
def test_it_masks_a_key_for_display_and_logs(key_type: str, key: str, masked: str) -> None:
    assert mask_pix_key(key_type, key) == masked


@pytest.mark.parametrize(
    ("key_type", "key"),
    [
        (PixKeyType.CPF, "529.982.247-26"),
        (PixKeyType.EMAIL, "my password 123"),
        (PixKeyType.PHONE, ""),
        ("iban", "BR1800360305000010009795493C1"),
    ],
)
def test_it_masks_an_invalid_key_entirely(key_type: str, key: str) -> None:
    assert mask_pix_key(key_type, key) == "***"
