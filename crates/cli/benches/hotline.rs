//! The hotline at scale (issue 7's goals): ticket creation p99 under 50 ms with 32
//! operators at once; search p95 under 50 ms over one million tickets; hot issues for a
//! day of 50,000 tickets in under 2 s.
//!
//! 1. 32 clients take tickets over HTTP on a real port at once (each with duplicate
//!    lookup, number, band keys, term counts, timeline, search feed).
//! 2. One million realistic tickets over 20 days (50,000 a day, a burst about 84消毒液 on the
//!    last day) are stored with SQL in the shape intake stores them (rows, band keys, term
//!    counts) and indexed; then one client searches over HTTP (words of one to four
//!    characters, phrases of two words, with and without filters, ticket numbers).
//! 3. The hot issues of the last day, over HTTP.
//!
//! `cargo bench -p fangkong-cli --bench hotline [-- TICKETS_PER_DAY [CREATIONS_PER_CLIENT]]`
//! (defaults 50000 and 100). With `FANGKONG_BENCH_DATABASE_URL=postgres://…` it runs on
//! that (empty) PostgreSQL database instead.

mod common;
use common::report;
use fangkong_cli::config::{Database, Settings};
use fangkong_cli::server;
use fangkong_domain::clock::{FixedClock, SequentialIds};
use fangkong_domain::hotline::text::{band_keys, terms};
use fangkong_domain::hotline::{Category, Status, number};
use fangkong_store::hotline::search::Doc;
use fangkong_store::system::Stopwatch;
use fangkong_store::{Store, Value, params};
use std::collections::HashMap;
use std::sync::Arc;
use time::macros::datetime;
use time::{Date, Duration, OffsetDateTime};
use uuid::Uuid;

const DAYS: i64 = 20;
/// 16:00 in Beijing on the last day (a Monday, a working day).
const NOW: OffsetDateTime = datetime!(2020-03-02 08:00 UTC);

/// A small deterministic generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % n as u64) as usize
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.next(from.len())]
    }
}

const PLACES: &[&str] = &[
    "曲溪街道",
    "磐东街道",
    "云路镇",
    "玉窖镇",
    "锡场镇",
    "新亨镇",
    "玉湖镇",
    "埔田镇",
    "霖磐镇",
    "月城镇",
    "白塔镇",
    "龙尾镇",
    "桂岭镇",
];
const SHOPS: &[&str] = &[
    "大药房",
    "药店",
    "超市",
    "便利店",
    "农贸市场",
    "菜市场",
    "诊所",
    "五金店",
    "粮油店",
];
const GOODS: &[&str] = &[
    "口罩",
    "N95口罩",
    "酒精",
    "消毒液",
    "体温计",
    "额温枪",
    "蔬菜",
    "猪肉",
    "大米",
    "食用油",
    "护目镜",
    "手套",
];
const TOPICS: &[&str] = &[
    "从湖北返乡人员需要居家隔离多少天",
    "政务服务中心什么时候恢复现场办理",
    "社保缴费可以延期吗",
    "办理营业执照能不能网上办",
    "发热了应该去哪个发热门诊",
    "密切接触者的家人需要隔离吗",
    "小区出入要什么证明",
    "企业复工需要什么手续",
    "口罩应该怎么正确佩戴",
    "快递包裹会不会传播病毒",
];
const VIOLATIONS: &[&str] = &[
    "聚集打麻将",
    "举办酒席聚餐",
    "不戴口罩在街上走",
    "私自开门营业",
    "贩卖野味",
    "从外地返回不报告",
];
const HARDSHIPS: &[&str] = &[
    "独居老人生活物资不够",
    "家中老人需要长期用药买不到",
    "隔离在家没有收入交不起房租",
    "残疾人出行困难需要帮忙买菜",
];

/// A ticket's category and content, as callers say it.
fn content(r: &mut Rng) -> (Category, String) {
    let place = r.pick(PLACES);
    match r.next(10) {
        0..=2 => {
            let price = 10 + r.next(190);
            let s = format!(
                "{place}{}{}{}卖{price}元一{}，{}",
                ["某", "一家", "XX", "路口的"][r.next(4)],
                r.pick(SHOPS),
                r.pick(GOODS),
                ["个", "瓶", "斤", "盒"][r.next(4)],
                [
                    "明显哄抬物价，请相关部门查处",
                    "比平时贵了好几倍",
                    "价格太高了希望有人管一管",
                    "涨价太离谱"
                ][r.next(4)]
            );
            (Category::PriceGouging, s)
        }
        3..=4 => (
            Category::Violation,
            format!(
                "{place}{}有人{}，{}",
                ["某村", "某小区", "街口", "市场旁边"][r.next(4)],
                r.pick(VIOLATIONS),
                ["请尽快处理", "已经好几天了", "影响防疫", "希望派人制止"][r.next(4)]
            ),
        ),
        5 => (
            Category::EpidemicClue,
            format!(
                "{place}{}有一户{}，{}",
                ["某村", "某小区", "某巷"][r.next(3)],
                ["从武汉回来的人", "发烧咳嗽的人", "湖北车牌的车主"][r.next(3)],
                ["没有报告", "没有居家隔离", "经常外出"][r.next(3)]
            ),
        ),
        6..=8 => (
            Category::PreventionQuestion,
            format!("请问{}？我住在{place}", r.pick(TOPICS)),
        ),
        _ => (
            Category::Hardship,
            format!("{place}{}，请求帮助", r.pick(HARDSHIPS)),
        ),
    }
}

/// The burst of the last day: the same complaint from many callers.
fn burst(r: &mut Rng) -> (Category, String) {
    (
        Category::PriceGouging,
        format!(
            "{}某超市84消毒液卖{}元一瓶，平时只要十几元，哄抬物价",
            r.pick(PLACES),
            60 + r.next(40)
        ),
    )
}

fn day_start(day: Date) -> OffsetDateTime {
    day.midnight()
        .assume_offset(fangkong_domain::clock::BEIJING)
}

/// Stores a day's tickets in the shape intake stores them, and returns their index
/// documents.
async fn fill_day(store: &Store, site: Uuid, day: Date, n: usize, r: &mut Rng) -> Vec<Doc> {
    let start = day_start(day) + Duration::hours(8);
    let mut docs = Vec::with_capacity(n);
    let mut term_counts: HashMap<String, i64> = HashMap::new();
    let mut key_counts: HashMap<i64, i64> = HashMap::new();
    let last = NOW.date() == day;
    let mut tx = store.begin().await.unwrap();
    for (chunk_no, chunk) in (0..n).collect::<Vec<_>>().chunks(200).enumerate() {
        let mut rows = String::new();
        let mut values: Vec<Value> = Vec::new();
        let mut band_values: Vec<Value> = Vec::new();
        for (k, &i) in chunk.iter().enumerate() {
            let (category, text) = if last && i % 25 == 0 {
                burst(r)
            } else {
                content(r)
            };
            let id = Uuid::from_u128(
                (u128::from(day.to_julian_day() as u32) << 64) | (i as u128) | (1 << 127),
            );
            let at = start + Duration::milliseconds((i as i64) * 9 * 3_600_000 / n as i64);
            let status = if i % 3 == 0 {
                Status::Closed
            } else if i % 3 == 1 {
                Status::Transferred
            } else {
                Status::New
            };
            let num = number(day, i as u32 + 1);
            if k > 0 {
                rows.push_str(", ");
            }
            let b = values.len();
            rows.push_str(&format!(
                "(${}, ${}, ${}, ${}, 'phone', ${}, FALSE, ${}, ${}, ${}, ${}, ${}, 'bench', ${}, 1)",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5,
                b + 6,
                b + 7,
                b + 8,
                b + 9,
                b + 10,
                b + 11
            ));
            let place = PLACES[r.next(PLACES.len())];
            values.extend([
                Value::from(id),
                Value::from(site),
                Value::from(i as i64 + 1),
                Value::from(day.to_string()),
                Value::from(category.as_str()),
                Value::from(status.as_str()),
                Value::from(text.as_str()),
                Value::from(place),
                Value::from(at + Duration::days(3)),
                Value::from(at),
                Value::from(at),
            ]);
            for t in terms(&text) {
                *term_counts.entry(t).or_default() += 1;
            }
            for key in band_keys(&text) {
                *key_counts.entry(key).or_default() += 1;
                band_values.extend([Value::from(key), Value::from(id), Value::from(at)]);
            }
            docs.push(Doc {
                id,
                number: num,
                site,
                departments: Vec::new(),
                category,
                status,
                created_at: at,
                updated_at: at,
                content: text,
                place: place.to_owned(),
            });
        }
        tx.execute(
            &format!(
                "INSERT INTO tickets (id, site_id, seq, day, channel, category, urgent, status, content, place, due_at, created_at, created_by, updated_at, version) VALUES {rows}"
            ),
            &values,
        )
        .await
        .unwrap();
        for vals in band_values.chunks(3000) {
            let mut sql =
                String::from("INSERT INTO ticket_bands (key, ticket_id, created_at) VALUES ");
            for j in 0..vals.len() / 3 {
                if j > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!("(${}, ${}, ${})", j * 3 + 1, j * 3 + 2, j * 3 + 3));
            }
            tx.execute(&sql, vals).await.unwrap();
        }
        if chunk_no % 25 == 24 {
            tx.commit().await.unwrap();
            tx = store.begin().await.unwrap();
        }
    }
    let terms: Vec<(String, i64)> = term_counts.into_iter().collect();
    for chunk in terms.chunks(500) {
        let mut sql = String::from("INSERT INTO ticket_term_days (site_id, day, term, n) VALUES ");
        let mut values = vec![Value::from(site), Value::from(day.to_string())];
        for (j, (t, n)) in chunk.iter().enumerate() {
            if j > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("($1, $2, ${}, ${})", j * 2 + 3, j * 2 + 4));
            values.extend([Value::from(t.as_str()), Value::from(*n)]);
        }
        tx.execute(&sql, &values).await.unwrap();
    }
    let keys: Vec<(i64, i64)> = key_counts.into_iter().collect();
    for chunk in keys.chunks(500) {
        let mut sql = String::from("INSERT INTO ticket_band_days (site_id, day, key, n) VALUES ");
        let mut values = vec![Value::from(site), Value::from(day.to_string())];
        for (j, (k, n)) in chunk.iter().enumerate() {
            if j > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("($1, $2, ${}, ${})", j * 2 + 3, j * 2 + 4));
            values.extend([Value::from(*k), Value::from(*n)]);
        }
        tx.execute(&sql, &values).await.unwrap();
    }
    tx.execute(
        "INSERT INTO ticket_numbers (day, last) VALUES ($1, $2)",
        &params![day.to_string(), n as i64],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    docs
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let per_day: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(50_000);
    let per_client: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(100);
    let dir = tempfile::tempdir().unwrap();
    let database = match std::env::var("FANGKONG_BENCH_DATABASE_URL") {
        Ok(url) => Database::Postgres { url },
        Err(_) => Database::Sqlite {
            data_dir: dir.path().join("data"),
        },
    };
    let mut settings = Settings::new("127.0.0.1:0".parse().unwrap(), database);
    settings.key = fangkong_cli::config::KeySource::File(dir.path().join("key"));
    if settings.hotline.search_dir.is_none() {
        settings.hotline.search_dir = Some(dir.path().join("search"));
    }
    let clock = Arc::new(FixedClock::new(NOW - Duration::days(DAYS)));
    let ids = Arc::new(SequentialIds::new(1_580_000_000_000));
    let running = server::start(&settings, true, clock.clone(), ids)
        .await
        .unwrap();
    let store = running.store.clone();
    let base = format!("http://{}", running.addr);
    let client = reqwest::Client::new();
    let hotline = running
        .demo_accounts
        .iter()
        .find(|a| a.username == "hotline")
        .unwrap();
    let token: serde_json::Value = client
        .post(format!("{base}/api/v1/auth/token"))
        .json(&serde_json::json!({"username": "hotline", "password": hotline.password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["token"].as_str().unwrap().to_owned();
    println!("{:?}", store.backend());

    // 1. 32 operators taking tickets at once, on a working morning of the first day.
    let watch = Stopwatch::start();
    let mut tasks = Vec::new();
    for c in 0..32u64 {
        let (client, base, token) = (client.clone(), base.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            let mut r = Rng(c + 7);
            let mut ms = Vec::with_capacity(per_client);
            for i in 0..per_client {
                let (category, text) = content(&mut r);
                let body = serde_json::json!({
                    "channel": "phone", "category": category.as_str(), "content": text,
                    "caller_name": "张三", "caller_phone": format!("138{:04}{:04}", c, i),
                    "place": PLACES[r.next(PLACES.len())], "urgent": i % 20 == 0});
                let watch = Stopwatch::start();
                let res = client
                    .post(format!("{base}/api/v1/tickets"))
                    .bearer_auth(&token)
                    .header("idempotency-key", format!("bench-{c}-{i}"))
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
                ms.push(watch.seconds() * 1000.0);
            }
            ms
        }));
    }
    let mut create_ms = Vec::new();
    for t in tasks {
        create_ms.extend(t.await.unwrap());
    }
    let took = watch.seconds();
    println!(
        "took {} tickets from 32 operators in {took:.1} s ({:.0} tickets/s)",
        create_ms.len(),
        create_ms.len() as f64 / took
    );
    report("ticket creation, 32 operators at once", create_ms);

    // 2. One million tickets over 20 days, indexed.
    let site: Uuid = store
        .query_one("SELECT id FROM sites WHERE code = 'JD'", &params![])
        .await
        .unwrap()
        .get(0)
        .unwrap();
    let first = NOW.date() - Duration::days(DAYS - 1);
    let watch = Stopwatch::start();
    let mut r = Rng(2020);
    let index = running.state.hotline_index.index.clone();
    let mut indexed = 0.0;
    for d in 0..DAYS {
        let day = first + Duration::days(d);
        let docs = fill_day(&store, site, day, per_day, &mut r).await;
        let w = Stopwatch::start();
        let idx = index.clone();
        let mark = docs.last().map_or(NOW, |x| x.updated_at);
        tokio::task::spawn_blocking(move || idx.write(&docs, mark))
            .await
            .unwrap()
            .unwrap();
        indexed += w.seconds();
    }
    println!(
        "stored {} tickets with band keys and term counts in {:.0} s (indexing {indexed:.0} s of it); the index holds {}",
        per_day * DAYS as usize,
        watch.seconds(),
        index.len()
    );
    clock.advance(Duration::days(DAYS));

    let get = async |path: String| {
        let watch = Stopwatch::start();
        let res = client
            .get(format!("{base}{path}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path}");
        let body: serde_json::Value = res.json().await.unwrap();
        (watch.seconds() * 1000.0, body)
    };
    let queries = [
        "口罩",
        "药",
        "哄抬物价",
        "消毒液",
        "隔离",
        "发热门诊",
        "曲溪街道 口罩",
        "野味",
        "N95口罩",
        "独居老人",
        "营业执照",
        "84消毒液 超市",
        "体温计 涨价",
        "聚餐",
        "湖北",
    ];
    let encode = fangkong_web::home::encode;
    for q in queries.iter().take(5) {
        get(format!("/api/v1/tickets?q={}", encode(q))).await;
    }
    let mut search_ms = Vec::new();
    let mut filtered_ms = Vec::new();
    let mut number_ms = Vec::new();
    let mut r = Rng(7);
    for i in 0..300 {
        let q = queries[r.next(queries.len())];
        let (ms, body) = get(format!("/api/v1/tickets?q={}", encode(q))).await;
        assert!(body["total"].as_u64().unwrap() > 0, "{q}");
        search_ms.push(ms);
        let day = first + Duration::days(r.next(DAYS as usize) as i64);
        let (ms, _) = get(format!(
            "/api/v1/tickets?q={}&category=price_gouging&status=transferred&from={day}&until={day}",
            encode(q)
        ))
        .await;
        filtered_ms.push(ms);
        if i % 3 == 0 {
            let n = number(day, 1 + r.next(per_day) as u32);
            let (ms, body) = get(format!("/api/v1/tickets?q={n}")).await;
            assert_eq!(body["items"][0]["number"], n.as_str());
            number_ms.push(ms);
        }
    }
    report("search, one to four words", search_ms);
    report("search with category, status and a day", filtered_ms);
    report("search by ticket number", number_ms);

    // 3. Hot issues of the last day.
    let mut hot_ms = Vec::new();
    for _ in 0..5 {
        let (ms, body) = get(format!("/api/v1/hotline/hot?date={}", NOW.date())).await;
        assert!(
            body["terms"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["term"] == "84消毒液"),
            "{}",
            body["terms"]
        );
        let clusters = body["clusters"].as_array().unwrap();
        assert!(!clusters.is_empty());
        if hot_ms.is_empty() {
            for c in clusters.iter().take(3) {
                println!(
                    "  hot cluster of {} (baseline mean {}): {}",
                    c["size"], c["baseline_mean"], c["samples"][0][1]
                );
            }
            let terms: Vec<String> = body["terms"]
                .as_array()
                .unwrap()
                .iter()
                .take(5)
                .map(|t| format!("{} {}", t["term"], t["today"]))
                .collect();
            println!("  hot terms: {}", terms.join(", "));
        }
        hot_ms.push(ms);
    }
    report(&format!("hot issues of a day of {per_day} tickets"), hot_ms);
    running.shutdown().await.unwrap();
}
