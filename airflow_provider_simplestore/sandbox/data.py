"""Seeded, realistic data: the same options always give the same objects in the same order."""

from __future__ import annotations

import random
import re
import string
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone

from airflow_provider_simplestore.sandbox import commerce
from airflow_provider_simplestore.sandbox.options import SandboxOptions
from airflow_provider_simplestore.sandbox.pricing import effective_price, international_number, money, shipping_fee
from airflow_provider_simplestore.sandbox.store import Row, Store, order_id
from airflow_provider_simplestore.sandbox.web import format_utc

LOCALES = ("en-AU", "ja-JP")
CURRENCY = "AUD"
ASSET_BASE = "https://assets.sandbox.simplestore.invalid"

ADJECTIVES = [
    ("Classic", "クラシック"),
    ("Organic", "オーガニック"),
    ("Handmade", "手作りの"),
    ("Compact", "コンパクトな"),
    ("Deluxe", "デラックス"),
    ("Everyday", "毎日使える"),
    ("Vintage", "ヴィンテージ"),
    ("Minimal", "ミニマルな"),
    ("Rustic", "素朴な"),
    ("Premium", "プレミアム"),
    ("Travel", "トラベル"),
    ("Bamboo", "竹製の"),
    ("Ceramic", "陶器の"),
    ("Linen", "リネンの"),
    ("Copper", "銅製の"),
    ("Recycled", "リサイクル"),
]
COLOURS = [
    ("Red", "赤"),
    ("Blue", "青"),
    ("Green", "緑"),
    ("Black", "黒"),
    ("White", "白"),
    ("Grey", "グレー"),
    ("Navy", "紺"),
    ("Sand", "サンド"),
    ("Olive", "オリーブ"),
    ("Coral", "コーラル"),
]
NOUNS = [
    ("Coffee Cup", "コーヒーカップ"),
    ("Tea Towel", "ティータオル"),
    ("Notebook", "ノート"),
    ("Water Bottle", "水筒"),
    ("Backpack", "リュック"),
    ("Candle", "キャンドル"),
    ("Cushion", "クッション"),
    ("Desk Lamp", "デスクランプ"),
    ("Teapot", "急須"),
    ("Chopsticks", "箸"),
    ("Lunch Box", "弁当箱"),
    ("Scarf", "スカーフ"),
    ("Umbrella", "傘"),
    ("Plant Pot", "植木鉢"),
    ("Cutting Board", "まな板"),
    ("Tote Bag", "トートバッグ"),
    ("Wall Clock", "掛け時計"),
    ("Throw Blanket", "ブランケット"),
    ("Pen Set", "ペンセット"),
    ("Dog Bowl", "犬用ボウル"),
]
CATEGORY_NAMES = [
    ("Kitchen", "キッチン"),
    ("Homewares", "生活雑貨"),
    ("Coffee & Tea", "コーヒーと紅茶"),
    ("Stationery", "文房具"),
    ("Outdoor", "アウトドア"),
    ("Bath", "バス用品"),
    ("Garden", "ガーデン"),
    ("Kids", "キッズ"),
    ("Pets", "ペット"),
    ("Gifts", "ギフト"),
    ("Lighting", "照明"),
    ("Travel", "トラベル"),
    ("Textiles", "テキスタイル"),
    ("Bags", "バッグ"),
]
COLLECTION_NAMES = [
    ("Winter Collection", "冬コレクション"),
    ("Summer Collection", "夏コレクション"),
    ("New Arrivals", "新着"),
    ("Best Sellers", "ベストセラー"),
    ("Eco Range", "エコシリーズ"),
    ("Gift Ideas", "ギフトアイデア"),
    ("Limited Edition", "限定版"),
    ("Autumn Collection", "秋コレクション"),
]
FOLDER_NAMES = ["Products", "Categories", "Marketing", "Hero Images", "Thumbnails", "Banners", "Documents", "Archive"]
EN_FIRST = ["Olivia", "Jack", "Charlotte", "William", "Amelia", "Noah", "Isla", "Oliver", "Mia", "Thomas"]
EN_LAST = ["Smith", "Jones", "Williams", "Brown", "Wilson", "Taylor", "Nguyen", "Martin", "Walker", "Harris"]
JA_FIRST = ["Haruto", "Yui", "Sota", "Hina", "Ren", "Aoi", "Yuto", "Sakura", "Riku", "Mei"]
JA_LAST = ["Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Yamamoto", "Nakamura", "Kobayashi", "Kato"]
# (suburb, state, postcode) per country
AU_PLACES = [
    ("Surry Hills", "NSW", "2010"),
    ("Newtown", "NSW", "2042"),
    ("Fitzroy", "VIC", "3065"),
    ("Brunswick", "VIC", "3056"),
    ("New Farm", "QLD", "4005"),
    ("Fremantle", "WA", "6160"),
    ("Glenelg", "SA", "5045"),
    ("Battery Point", "TAS", "7004"),
    ("Braddon", "ACT", "2612"),
]
JP_PLACES = [
    ("Shibuya", "Tokyo", "150-0002"),
    ("Setagaya", "Tokyo", "154-0001"),
    ("Naka-ku", "Kanagawa", "231-0001"),
    ("Kita-ku", "Osaka", "530-0001"),
    ("Sakyo-ku", "Kyoto", "606-8501"),
    ("Chuo-ku", "Fukuoka", "810-0001"),
]
STREETS = ["George St", "King St", "Church St", "High St", "Station Rd", "Park Ave", "Hill St", "Bay Rd"]


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "item"


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _stamp(value: datetime) -> str:
    return format_utc(value)


def default_configuration() -> Row:
    return {
        "defaultCurrencyCode": CURRENCY,
        "rewardsConversionRate": 0.01,
        "languages": {"en-AU": "English (Australia)", "ja-JP": "日本語"},
        "shipping": {
            "defaultFee": 24.95,
            "rates": [
                {"country": "AU", "state": "NSW", "fee": 9.95},
                {"country": "AU", "state": None, "fee": 12.95},
                {"country": "JP", "state": None, "fee": 19.95},
            ],
        },
    }


def seed_store(store: Store, options: SandboxOptions) -> None:
    """Fill an empty store as of `options.anchor` (specials are applied as live at the anchor).

    Each resource draws from its own random stream, so growing one count leaves the others' content
    unchanged (versions come from one store-wide counter, so they shift)."""
    seed = options.seed
    anchor = options.anchor
    store.configuration = {"version": store.next_version(), **default_configuration()}
    # Category images draw from a stream of their own, so the categories' other draws are as before.
    _categories(store, random.Random(f"{seed}-categories"), options.categories, random.Random(f"{seed}-images"))
    _collections(store, random.Random(f"{seed}-collections"), options.collections)
    _products(store, random.Random(f"{seed}-products"), options.products)
    _specials(store, random.Random(f"{seed}-specials"), options.specials, anchor)
    reprice_all(store, anchor)
    _folders(store, random.Random(f"{seed}-folders"), options.folders)
    _customers(store, random.Random(f"{seed}-customers"), options.customers)
    _orders(store, random.Random(f"{seed}-orders"), options.orders, anchor)


def reprice_all(store: Store, now: datetime) -> None:
    specials = store.specials.rows()
    for product in store.products.rows():
        product["price"] = effective_price(product, specials, now)
    store.products.touch_all()


def _localised(rng_pair: tuple[str, str]) -> dict[str, str]:
    return {"en-AU": rng_pair[0], "ja-JP": rng_pair[1]}


def _categories(store: Store, rng: random.Random, count: int, images: random.Random) -> None:
    roots: list[Row] = []
    for i in range(count):
        en, ja = CATEGORY_NAMES[i % len(CATEGORY_NAMES)]
        suffix = "" if i < len(CATEGORY_NAMES) else f" {i // len(CATEGORY_NAMES) + 1}"
        name = en + suffix
        parent = rng.choice(roots) if roots and i >= max(2, count // 3) else None
        row: Row = {
            "categoryId": _uuid(rng),
            "version": store.next_version(),
            "slug": slugify(name),
            "name": name,
            "description": f"{name} products",
            "names": {"en-AU": name, "ja-JP": ja + suffix},
            "descriptions": {"en-AU": f"{name} products", "ja-JP": f"{ja}{suffix}の商品"},
            "parentId": parent["categoryId"] if parent else None,
            "isActive": rng.random() > 0.1,
            "attributes": {},
            "files": [_file(images)] if images.random() < 0.3 else [],
        }
        store.categories.insert(row)
        if parent is None:
            roots.append(row)


def _collections(store: Store, rng: random.Random, count: int) -> None:
    for i in range(count):
        en, ja = COLLECTION_NAMES[i % len(COLLECTION_NAMES)]
        suffix = "" if i < len(COLLECTION_NAMES) else f" {i // len(COLLECTION_NAMES) + 1}"
        name = en + suffix
        store.collections.insert(
            {
                "collectionId": _uuid(rng),
                "version": store.next_version(),
                "name": name,
                "slug": slugify(name),
                "description": f"Our {name.lower()}",
                "names": {"en-AU": name, "ja-JP": ja + suffix},
                "descriptions": {"en-AU": f"Our {name.lower()}", "ja-JP": f"{ja}{suffix}のアイテム"},
                "isActive": True,
                "attributes": {},
            }
        )


def _file(rng: random.Random) -> Row:
    file_id = _uuid(rng)
    return {
        "fileId": file_id,
        "contentType": "image/jpeg",
        "accessPermission": "Public",
        "accessUrl": f"{ASSET_BASE}/files/{file_id}.jpg",
        "attributes": {},
        "edgeUrl": f"{ASSET_BASE}/edge/{file_id}.jpg",
    }


def _ref(row: Row, id_field: str) -> Row:
    return {"key": row[id_field], "value": row["name"], "slug": row["slug"]}


def _products(store: Store, rng: random.Random, count: int) -> None:
    categories = store.categories.rows()
    collections = store.collections.rows()
    slugs: Counter[str] = Counter()
    short_urls = store.short_urls
    for i in range(count):
        adjective, colour, noun = rng.choice(ADJECTIVES), rng.choice(COLOURS), rng.choice(NOUNS)
        title = f"{adjective[0]} {colour[0]} {noun[0]}"
        title_ja = f"{adjective[1]}{colour[1]}の{noun[1]}"
        base_slug = slugify(title)
        slugs[base_slug] += 1
        slug = base_slug if slugs[base_slug] == 1 else f"{base_slug}-{slugs[base_slug]}"
        short_url = "".join(rng.choices(string.ascii_letters + string.digits, k=8))
        while short_url in short_urls:
            short_url = "".join(rng.choices(string.ascii_letters + string.digits, k=8))
        short_urls.add(short_url)
        sell = money(rng.uniform(4, 250))
        retail = money(sell * rng.choice((1.0, 1.1, 1.2, 1.25))) if rng.random() < 0.7 else None
        track = rng.random() < 0.85
        available = rng.randint(0, 500) if track else None
        minimum = rng.choice((0, 1, 5, 10)) if track else None
        status = "Available"
        if track and available is not None and minimum is not None and available < minimum:
            status = "OutOfStock"
        roll = rng.random()
        if roll < 0.02:
            status = "Discontinued"
        elif roll < 0.04:
            status = "Unavailable"
        rewards = rng.random() < 0.3
        method = rng.choice(("RewardsOrCurrency", "RewardsPlusPay")) if rewards else "CurrencyOnly"
        description = f"A {adjective[0].lower()} {noun[0].lower()} in {colour[0].lower()}."
        row: Row = {
            "productId": _uuid(rng),
            "version": store.next_version(),
            "slug": slug,
            "shortUrl": short_url,
            "title": title,
            "description": description,
            "titles": {"en-AU": title, "ja-JP": title_ja},
            "descriptions": {"en-AU": description, "ja-JP": f"{colour[1]}の{noun[1]}です。"},
            "isActive": rng.random() > 0.08,
            "status": status,
            "attributes": {"material": adjective[0].lower()} if rng.random() < 0.5 else {},
            "categories": [
                _ref(c, "categoryId") for c in rng.sample(categories, min(len(categories), rng.randint(1, 2)))
            ],
            "collections": [
                _ref(c, "collectionId") for c in rng.sample(collections, min(len(collections), rng.randint(0, 1)))
            ],
            "files": [_file(rng) for _ in range(rng.randint(0, 2))],
            "paymentMethod": method,
            "basePrice": {"currencyCode": CURRENCY, "sellPrice": sell, "retailPrice": retail, "attributes": {}},
            "price": {},
            "baseRewards": {
                "isEnabled": rewards,
                "points": int(sell * 100) if rewards else 0,
                "minPayAmount": 0.0,
                "minPointsAmount": 0.0,
            },
            "rewards": {},
            "inventory": {
                "sku": f"SS-{i + 1:06d}",
                "availableQuantity": available,
                "minActiveQuantity": minimum,
                "grossWeight": money(rng.uniform(0.1, 5)),
                "trackInventory": track,
            },
        }
        row["rewards"] = dict(row["baseRewards"])
        store.products.insert(row)
        store.product_slugs.claim(slug, row["productId"])
        store.product_skus.claim(row["inventory"]["sku"], row["productId"])


def _specials(store: Store, rng: random.Random, count: int, anchor: datetime) -> None:
    targets: list[tuple[str, str]] = (
        [("Category", row["categoryId"]) for row in store.categories.rows()]
        + [("Collection", row["collectionId"]) for row in store.collections.rows()]
        + [("Product", row["productId"]) for row in store.products.rows()[:50]]
    )
    for i in range(count):
        percentage = rng.random() < 0.7
        amount = float(rng.choice((10, 15, 20, 25))) if percentage else float(rng.choice((5, 10)))
        start = anchor - timedelta(days=rng.randint(1, 30))
        end = None if rng.random() < 0.3 else anchor + timedelta(days=rng.randint(30, 90))
        if i % 4 == 3:  # one in four already ended: visible but not applied
            end = anchor - timedelta(hours=1)
        rules = [
            {"key": _uuid(rng), "entityType": kind, "entityId": target}
            for kind, target in rng.sample(targets, min(len(targets), rng.randint(1, 2)))
        ]
        label = f"{int(amount)}% off" if percentage else f"${int(amount)} off"
        store.specials.insert(
            {
                "specialId": _uuid(rng),
                "version": store.next_version(),
                "name": f"{label} #{i + 1}",
                "description": f"{label} selected items",
                "isActive": rng.random() > 0.15,
                "startOnUtc": _stamp(start),
                "endOnUtc": _stamp(end) if end else None,
                "specialType": "Percentage" if percentage else "FixedAmount",
                "amount": amount,
                "rules": rules,
                "attributes": {},
            }
        )


def _folders(store: Store, rng: random.Random, count: int) -> None:
    made: list[Row] = []
    for i in range(count):
        name = FOLDER_NAMES[i % len(FOLDER_NAMES)]
        if i >= len(FOLDER_NAMES):
            name = f"{name} {i // len(FOLDER_NAMES) + 1}"
        parent = rng.choice(made) if made and i >= 3 else None
        row: Row = {
            "folderId": _uuid(rng),
            "version": store.next_version(),
            "name": name,
            "parentId": parent["folderId"] if parent else None,
            "attributes": {},
        }
        store.folders.insert(row)
        made.append(row)


def _customers(store: Store, rng: random.Random, count: int) -> None:
    for i in range(count):
        japanese = rng.random() < 0.35
        first = rng.choice(JA_FIRST if japanese else EN_FIRST)
        last = rng.choice(JA_LAST if japanese else EN_LAST)
        country = "JP" if japanese else "AU"
        email = f"{first}.{last}.{i + 1}@example.com".lower()
        customer_id = _uuid(rng)
        phones = []
        for _ in range(rng.randint(1, 2)):
            if japanese:
                local = f"090-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}"
            else:
                local = f"04{rng.randint(10, 99)} {rng.randint(100, 999)} {rng.randint(100, 999)}"
            phones.append(
                {
                    "key": _uuid(rng),
                    "type": rng.choice(("Mobile", "Phone")),
                    "country": country,
                    "numberLocal": local,
                    "numberInternational": international_number(country, local),
                }
            )
        addresses = []
        for _ in range(rng.randint(1, 2)):
            suburb, state, postcode = rng.choice(JP_PLACES if japanese else AU_PLACES)
            addresses.append(
                {
                    "key": _uuid(rng),
                    "address1": f"{rng.randint(1, 250)} {rng.choice(STREETS)}",
                    "address2": f"Unit {rng.randint(1, 40)}" if rng.random() < 0.3 else None,
                    "suburb": suburb,
                    "postcode": postcode,
                    "state": state,
                    "country": country,
                }
            )
        row: Row = {
            "customerId": customer_id,
            "version": store.next_version(),
            "firstName": first,
            "lastName": last,
            "displayName": f"{first} {last}",
            "emailAddress": email,
            "phones": phones,
            "addresses": addresses,
            "attributes": {"locale": "ja-JP" if japanese else "en-AU"},
        }
        store.customers.insert(row)
        store.customer_emails.claim(email, customer_id)


def _orders(store: Store, rng: random.Random, count: int, anchor: datetime) -> None:
    if not count:
        return
    customers = store.customers.rows()
    sellable = [p for p in store.products.rows() if p["isActive"] and p["status"] == "Available"]
    sellable = sellable or store.products.rows()
    window = timedelta(days=90).total_seconds()
    moments = sorted(anchor - timedelta(seconds=rng.uniform(0, window)) for _ in range(count))
    for created in moments:
        created = created.replace(microsecond=created.microsecond // 1000 * 1000)
        make_order(store, rng, customers, sellable, created, paid=rng.random() < 0.65)


def make_order(
    store: Store, rng: random.Random, customers: list[Row], products: list[Row], created: datetime, *, paid: bool
) -> Row:
    """One realistic order (through a checked-out cart), as seeding and `POST /_sandbox/orders` make."""
    customer = rng.choice(customers)
    cart = commerce.new_cart(_uuid(rng), CURRENCY)
    for product in rng.sample(products, min(len(products), rng.randint(1, 4))):
        cart["items"].append(commerce.cart_item(product, rng.randint(1, 3)))
    address = (customer.get("addresses") or [{}])[0]
    cart["shippingFee"] = shipping_fee(store.configuration, address.get("country"), address.get("state"))
    commerce.recompute(cart)
    new_id = order_id(rng)
    while new_id in store.orders:
        new_id = order_id(rng)
    payments = []
    if paid:
        payments.append(
            {
                "paymentId": _uuid(rng),
                "paidOnUtc": _stamp(created + timedelta(minutes=rng.randint(1, 30))),
                "type": "Credit",
                "status": "Successful",
                "paidAmount": cart["totalCurrency"],
                "cancellationReason": None,
                "refundId": None,
                "refundReason": None,
                "attributes": {},
            }
        )
    order, _ = commerce.place_order(
        store,
        cart,
        order_id=new_id,
        customer=customer,
        contacts=commerce.default_contacts(customer),
        created_on=created,
        status="Paid" if paid else "Created",
        payments=payments,
    )
    return order


def now_utc() -> datetime:
    return datetime.now(timezone.utc)
