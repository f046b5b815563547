"""Major business cities worldwide, so that a city a query names is read as a place, never as a topic.

No installed package lists cities (pycountry stops at subdivisions), so this is a curated table: the
capitals and the cities that host most listed companies and startups, by country (the largest metropolitan
economies, the stock-exchange and startup hubs). Each entry is "Name" or "Name=Alias=Alias" (other
spellings the company data or a query may use: "Bengaluru=Bangalore"); a US entry is "Name/State", because
US addresses, and so the data, often give only the state. The first spelling is the display name.

Left out on purpose: cities named like common words ("Reading", "Nice", "Bath"), cities named like their
country ("Singapore", "Luxembourg": the country entry answers), names shared by two well-known cities in
different countries ("Cambridge", "Birmingham", "Saint Petersburg", "Richmond", "Portland", "Hamilton"),
and US cities named like their state ("New York", "Washington": the state entry answers; "New York City"
and "NYC" name the city).
"""

from __future__ import annotations

_BY_COUNTRY: dict[str, str] = {
    "US": (
        "New York City=NYC=Manhattan=Brooklyn/New York; San Francisco=SF/California; Los Angeles=LA/California; "
        "San Jose/California; San Diego/California; Palo Alto/California; Mountain View/California; "
        "Oakland/California; San Mateo/California; Berkeley/California; Redwood City/California; "
        "Menlo Park/California; Santa Clara/California; Sunnyvale/California; Cupertino/California; "
        "Santa Monica/California; Irvine/California; Sacramento/California; Pasadena/California; "
        "Boston/Massachusetts; Seattle/Washington; Bellevue/Washington; Redmond/Washington; Chicago/Illinois; "
        "Austin/Texas; Houston/Texas; Dallas/Texas; San Antonio/Texas; Fort Worth/Texas; Irving/Texas; "
        "Plano/Texas; Atlanta/Georgia; Miami/Florida; Orlando/Florida; Tampa/Florida; Jacksonville/Florida; "
        "Denver/Colorado; Boulder/Colorado; Philadelphia/Pennsylvania; Pittsburgh/Pennsylvania; "
        "Phoenix/Arizona; Scottsdale/Arizona; Tempe/Arizona; Minneapolis/Minnesota; Detroit/Michigan; "
        "Ann Arbor/Michigan; Charlotte/North Carolina; Raleigh/North Carolina; Durham/North Carolina; "
        "Nashville/Tennessee; Memphis/Tennessee; Salt Lake City/Utah; Lehi/Utah; Provo/Utah; "
        "Las Vegas/Nevada; Reno/Nevada; Baltimore/Maryland; Bethesda/Maryland; Columbus/Ohio; "
        "Cleveland/Ohio; Cincinnati/Ohio; Indianapolis/Indiana; Milwaukee/Wisconsin; St. Louis=Saint Louis/"
        "Missouri; Kansas City/Missouri; Omaha/Nebraska; Oklahoma City/Oklahoma; Tulsa/Oklahoma; "
        "New Orleans/Louisiana; Louisville/Kentucky; Stamford/Connecticut; Hartford/Connecticut; "
        "Newark/New Jersey; Jersey City/New Jersey; Princeton/New Jersey; Wilmington/Delaware; "
        "Providence/Rhode Island; Honolulu/Hawaii; Anchorage/Alaska; Boise/Idaho; Albuquerque/New Mexico; "
        "Des Moines/Iowa; Birmingham, Alabama=Birmingham AL/Alabama; Reston/Virginia; Arlington, "
        "Virginia/Virginia"
    ),
    "CA": (
        "Toronto; Vancouver; Montreal=Montréal; Calgary; Ottawa; Edmonton; Waterloo; Kitchener; Mississauga; "
        "Winnipeg; Quebec City=Québec; Halifax; Victoria; Saskatoon; Kelowna"
    ),
    "MX": "Mexico City=Ciudad de Mexico=CDMX; Monterrey; Guadalajara; Puebla; Tijuana; Queretaro=Querétaro",
    "BR": (
        "São Paulo=Sao Paulo; Rio de Janeiro=Rio; Belo Horizonte; Brasília=Brasilia; Curitiba; Porto Alegre; "
        "Florianópolis=Florianopolis; Recife; Campinas"
    ),
    "AR": "Buenos Aires; Córdoba=Cordoba; Rosario; Mendoza",
    "CL": "Santiago=Santiago de Chile; Valparaíso=Valparaiso",
    "CO": "Bogotá=Bogota; Medellín=Medellin; Cali; Barranquilla",
    "PE": "Lima",
    "UY": "Montevideo",
    "EC": "Quito; Guayaquil",
    "VE": "Caracas",
    "CR": "San José, Costa Rica",
    "PA": "Panama City",
    "GT": "Guatemala City",
    "DO": "Santo Domingo",
    "GB": (
        "London; Manchester; Edinburgh; Glasgow; Leeds; Bristol; Liverpool; Oxford; Newcastle; Sheffield; "
        "Nottingham; Cardiff; Belfast; Aberdeen"
    ),
    "IE": "Dublin; Cork; Galway; Limerick",
    "FR": "Paris; Lyon; Marseille; Toulouse; Lille; Nantes; Bordeaux; Montpellier; Strasbourg; Grenoble",
    "DE": (
        "Berlin; Munich=München=Munchen; Hamburg; Frankfurt=Frankfurt am Main; Cologne=Köln=Koln; "
        "Düsseldorf=Dusseldorf; Stuttgart; Essen; Hanover=Hannover; Leipzig; Dresden; Bremen; Nuremberg="
        "Nürnberg; Mannheim; Karlsruhe; Bonn; Dortmund; Heidelberg; Wolfsburg"
    ),
    "NL": "Amsterdam; Rotterdam; The Hague=Den Haag; Utrecht; Eindhoven",
    "BE": "Brussels=Bruxelles=Brussel; Antwerp=Antwerpen; Ghent=Gent; Leuven",
    "CH": "Zurich=Zürich; Geneva=Genève=Geneve; Basel; Lausanne; Bern; Zug; Lugano",
    "AT": "Vienna=Wien; Graz; Linz; Salzburg",
    "ES": "Madrid; Barcelona; Valencia; Seville=Sevilla; Bilbao; Malaga=Málaga; Zaragoza",
    "PT": "Lisbon=Lisboa; Porto",
    "IT": "Milan=Milano; Rome=Roma; Turin=Torino; Naples=Napoli; Florence=Firenze; Bologna; Genoa=Genova",
    "SE": "Stockholm; Gothenburg=Göteborg=Goteborg; Malmö=Malmo; Uppsala; Lund",
    "NO": "Oslo; Bergen; Stavanger; Trondheim",
    "DK": "Copenhagen=København=Kobenhavn; Aarhus",
    "FI": "Helsinki; Espoo; Tampere; Oulu; Turku",
    "IS": "Reykjavik=Reykjavík",
    "EE": "Tallinn; Tartu",
    "LV": "Riga",
    "LT": "Vilnius; Kaunas",
    "PL": "Warsaw=Warszawa; Kraków=Krakow; Wrocław=Wroclaw; Gdańsk=Gdansk; Poznań=Poznan",
    "CZ": "Prague=Praha; Brno",
    "SK": "Bratislava",
    "HU": "Budapest",
    "RO": "Bucharest=București; Cluj-Napoca=Cluj",
    "BG": "Sofia",
    "GR": "Athens; Thessaloniki; Piraeus",
    "CY": "Nicosia; Limassol",
    "MT": "Valletta",
    "SI": "Ljubljana",
    "HR": "Zagreb",
    "RS": "Belgrade",
    "UA": "Kyiv=Kiev; Lviv; Kharkiv; Odesa=Odessa",
    "RU": "Moscow",
    "TR": "Istanbul; Ankara; Izmir=İzmir",
    "IL": "Tel Aviv=Tel Aviv-Yafo=Tel Aviv Yafo; Jerusalem; Haifa; Herzliya; Ramat Gan; Petah Tikva",
    "AE": "Dubai; Abu Dhabi",
    "SA": "Riyadh; Jeddah",
    "QA": "Doha",
    "KW": "Kuwait City",
    "BH": "Manama",
    "OM": "Muscat",
    "JO": "Amman",
    "LB": "Beirut",
    "EG": "Cairo; Alexandria",
    "MA": "Casablanca; Rabat",
    "TN": "Tunis",
    "DZ": "Algiers",
    "NG": "Lagos; Abuja; Ibadan; Port Harcourt; Kano; Ikeja",
    "GH": "Accra; Kumasi",
    "KE": "Nairobi; Mombasa",
    "ET": "Addis Ababa",
    "UG": "Kampala",
    "RW": "Kigali",
    "TZ": "Dar es Salaam",
    "SN": "Dakar",
    "CI": "Abidjan",
    "CM": "Douala",
    "ZA": "Johannesburg; Cape Town; Durban; Pretoria; Sandton",
    "ZW": "Harare",
    "ZM": "Lusaka",
    "AO": "Luanda",
    "IN": (
        "Bengaluru=Bangalore; Mumbai=Bombay; New Delhi; Delhi; Gurugram=Gurgaon; Noida; Hyderabad; "
        "Chennai=Madras; Pune; Kolkata=Calcutta; Ahmedabad; Jaipur; Kochi=Cochin; Coimbatore; Chandigarh; "
        "Indore; Surat"
    ),
    "PK": "Karachi; Lahore; Islamabad",
    "BD": "Dhaka",
    "LK": "Colombo",
    "NP": "Kathmandu",
    "CN": (
        "Shanghai; Beijing=Peking; Shenzhen; Guangzhou; Hangzhou; Chengdu; Wuhan; Nanjing; Tianjin; Suzhou; "
        "Chongqing; Xi'an=Xian; Xiamen; Qingdao; Dalian; Ningbo; Changsha; Hefei; Zhengzhou; Shenyang; "
        "Jinan; Fuzhou; Kunming; Harbin; Dongguan; Foshan; Wuxi; Zhuhai"
    ),
    "TW": "Taipei=Taipei City; New Taipei=New Taipei City; Hsinchu=Hsinchu City; Taichung; Kaohsiung; Tainan",
    "JP": "Tokyo; Osaka; Yokohama; Nagoya; Kyoto; Kobe; Fukuoka; Sapporo; Sendai; Hiroshima; Kawasaki",
    "KR": "Seoul; Busan; Incheon; Daegu; Daejeon; Seongnam=Seongnam-si; Suwon; Pangyo",
    "SG": "",
    "MY": "Kuala Lumpur; Penang; Cyberjaya; Petaling Jaya",
    "ID": "Jakarta; Surabaya; Bandung; Tangerang",
    "TH": "Bangkok; Chiang Mai",
    "VN": "Ho Chi Minh City=Saigon; Hanoi",
    "PH": "Manila; Makati; Cebu; Taguig",
    "AU": "Sydney; Melbourne; Brisbane; Perth; Adelaide; Canberra; Gold Coast; Hobart",
    "NZ": "Auckland; Wellington; Christchurch",
    "KZ": "Almaty; Astana",
    "GE": "Tbilisi",
    "AM": "Yerevan",
    "AZ": "Baku",
    "BM": "Hamilton, Bermuda",
    "KY": "George Town, Cayman Islands=Grand Cayman",
}


def _entries() -> dict[str, tuple[str, str, str | None]]:
    table: dict[str, tuple[str, str, str | None]] = {}
    for code, listed in _BY_COUNTRY.items():
        for entry in filter(None, (e.strip() for e in listed.split(";"))):
            names, _, state = entry.partition("/")
            spellings = names.split("=")
            shown = spellings[0].split(",")[0]  # "Birmingham, Alabama" is shown as Birmingham
            for spelling in spellings:
                table[spelling] = (shown, code, state or None)
    return table


# Spelling as written → (display name, alpha-2 country, US state or None).
CITIES: dict[str, tuple[str, str, str | None]] = _entries()

# Cities named like an everyday word ("Victoria", "Waterloo", "Phoenix"): a query means the
# city only when it writes the name capitalised ("banks in Victoria", not "victoria sponge bakeries").
CAPITALISED_ONLY = frozenset({"victoria", "waterloo", "phoenix", "essen", "cork", "rio",
                              "lima", "sofia", "hanover", "bergen", "kano", "cali"})


def _spellings() -> dict[str, tuple[str, ...]]:
    by_shown: dict[str, list[str]] = {}
    for spelling, (shown, _, _) in CITIES.items():
        by_shown.setdefault(shown.lower(), []).append(spelling)
    return {shown: tuple(dict.fromkeys(found)) for shown, found in by_shown.items()}


_SPELLINGS = _spellings()


def spellings(city: str) -> tuple[str, ...]:
    """Every spelling the table knows of a city, its display name first ("Bengaluru", "Bangalore"); the
    name alone when the city is not in the table."""
    return _SPELLINGS.get(city.lower(), (city,))
