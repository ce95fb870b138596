//! Words on screens: zh-CN first, English second.
//!
//! The locale is the user's choice (the `lang` cookie, set from the language switch),
//! then the browser's `Accept-Language`, then Chinese. Every message lives in one table
//! with both languages side by side; a test checks that every key a template or the code
//! uses is in the table.

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::LazyLock;

/// A supported language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Locale {
    #[default]
    ZhCn,
    En,
}

/// The cookie that keeps the user's choice.
pub const COOKIE: &str = "lang";

impl Locale {
    pub const fn tag(self) -> &'static str {
        match self {
            Locale::ZhCn => "zh-CN",
            Locale::En => "en",
        }
    }

    pub fn from_tag(tag: &str) -> Option<Locale> {
        let tag = tag.trim().to_ascii_lowercase();
        if tag == "zh" || tag.starts_with("zh-") {
            Some(Locale::ZhCn)
        } else if tag == "en" || tag.starts_with("en-") {
            Some(Locale::En)
        } else {
            None
        }
    }

    /// The user's choice, then `Accept-Language` (by quality), then Chinese.
    pub fn negotiate(headers: &HeaderMap) -> Locale {
        let cookie = headers
            .get_all(axum::http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|kv| kv.trim().split_once('='))
            .find(|(k, _)| *k == COOKIE)
            .and_then(|(_, v)| Locale::from_tag(v));
        if let Some(l) = cookie {
            return l;
        }
        let accept = headers
            .get(axum::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let mut best: Option<(f32, Locale)> = None;
        for part in accept.split(',') {
            let mut bits = part.split(';');
            let tag = bits.next().unwrap_or("");
            let q = bits
                .find_map(|b| b.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            if let Some(l) = Locale::from_tag(tag)
                && q > 0.0
                && best.is_none_or(|(bq, _)| q > bq)
            {
                best = Some((q, l));
            }
        }
        best.map_or(Locale::ZhCn, |(_, l)| l)
    }

    /// The message for `key` in this language (the key itself if it is missing, which a
    /// test prevents).
    pub fn t(self, key: &str) -> &'static str {
        match CATALOG.get(key) {
            Some((zh, en)) => match self {
                Locale::ZhCn => zh,
                Locale::En => en,
            },
            None => {
                tracing::error!(key, "missing message");
                "…"
            }
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Locale {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Locale::negotiate(&parts.headers))
    }
}

static CATALOG: LazyLock<HashMap<&'static str, (&'static str, &'static str)>> =
    LazyLock::new(|| MESSAGES.iter().map(|&(k, zh, en)| (k, (zh, en))).collect());

/// (key, zh-CN, en)
const MESSAGES: &[(&str, &str, &str)] = &[
    // shell
    ("app.name", "防控", "Fangkong"),
    (
        "app.tagline",
        "政务服务中心疫情防控平台",
        "Epidemic prevention for public service halls",
    ),
    ("nav.home", "首页", "Home"),
    ("nav.api", "接口文档", "API"),
    ("nav.menu", "菜单", "Menu"),
    ("lang.switch", "English", "中文"),
    ("lang.switch.label", "切换语言", "Change language"),
    (
        "footer.notice",
        "本平台仅为疫情防控收集必要信息，并按规定期限保存。",
        "This platform collects only what epidemic prevention needs, and keeps it only for the set period.",
    ),
    ("skip", "跳到正文", "Skip to content"),
    // home
    ("home.title", "工作台", "Dashboard"),
    (
        "home.intro",
        "按《揭东区政务服务中心防控新型冠状病毒感染的肺炎疫情工作方案》开展每日防控工作。",
        "Running the Jiedong District Government Service Centre's epidemic prevention plan, day by day.",
    ),
    ("panel.sites", "站点概况", "Sites"),
    ("panel.sites.empty", "尚未建立站点。", "No sites yet."),
    ("panel.sites.code", "编号", "Code"),
    ("panel.sites.name", "名称", "Name"),
    ("panel.sites.kind", "类型", "Kind"),
    ("panel.sites.capacity", "容量（人）", "Capacity (people)"),
    ("panel.sites.total", "站点总数", "Sites in all"),
    ("panel.sync", "今日接收记录", "Records received today"),
    (
        "panel.sync.hint",
        "各站点上报的记录，实时更新。",
        "Records forwarded by the sites, updated live.",
    ),
    ("panel.sync.count", "条", "records"),
    ("panel.system", "系统状态", "System"),
    ("panel.system.database", "数据库", "Database"),
    ("panel.system.version", "版本", "Version"),
    ("panel.system.schema", "数据结构版本", "Schema version"),
    ("panel.system.started", "启动时间", "Running since"),
    ("panel.live", "实时", "Live"),
    ("kind.district", "区政务服务中心", "District service centre"),
    ("kind.traffic_branch", "交警分中心", "Traffic-police branch"),
    (
        "kind.town",
        "镇（街）公共服务中心",
        "Town/street service centre",
    ),
    (
        "kind.village",
        "村（居）党群服务中心",
        "Village/community service centre",
    ),
    ("db.sqlite", "内置 SQLite", "Embedded SQLite"),
    ("db.postgres", "PostgreSQL", "PostgreSQL"),
    // error pages
    ("error.404.title", "页面不存在", "Page not found"),
    (
        "error.404.body",
        "您要找的页面不存在或已移动。请从首页重新进入。",
        "The page you asked for does not exist or has moved. Please start again from the home page.",
    ),
    (
        "error.500.title",
        "服务暂时出现问题",
        "Something went wrong on our side",
    ),
    (
        "error.500.body",
        "我们已记录此问题。请稍后再试；如急需办理，请联系现场工作人员。",
        "We have logged the problem. Please try again shortly; if it is urgent, ask the staff on site.",
    ),
    ("error.back", "返回首页", "Back to the home page"),
    ("error.request_id", "问题编号", "Reference"),
    // API problems
    (
        "problem.not_found",
        "请求的资源不存在。",
        "The requested resource does not exist.",
    ),
    (
        "problem.method_not_allowed",
        "该地址不支持此请求方法。",
        "This address does not accept that method.",
    ),
    (
        "problem.internal",
        "服务器内部错误，已记录。请稍后重试。",
        "Internal error; it has been logged. Please try again later.",
    ),
    (
        "problem.unavailable",
        "服务暂时不可用，请稍后重试。",
        "The service is unavailable for the moment; please try again later.",
    ),
    (
        "problem.body.too_large",
        "请求内容过大。",
        "The request body is too large.",
    ),
    (
        "problem.body.invalid",
        "请求内容不是有效的 JSON，或缺少必填项。",
        "The request body is not valid JSON or misses a required field.",
    ),
    (
        "problem.body.content_type",
        "请求内容须为 JSON（Content-Type: application/json）。",
        "The request body must be JSON (Content-Type: application/json).",
    ),
    (
        "problem.validation",
        "提交的内容有误，请按提示修改。",
        "Some fields need correcting.",
    ),
    (
        "problem.idempotency.key_invalid",
        "Idempotency-Key 须为 1 至 255 个可见 ASCII 字符。",
        "Idempotency-Key must be 1 to 255 visible ASCII characters.",
    ),
    (
        "problem.idempotency.key_reused",
        "该 Idempotency-Key 已用于另一个不同的请求。",
        "This Idempotency-Key was already used for a different request.",
    ),
    (
        "problem.sync.batch_size",
        "每次最多提交 500 条记录，至少 1 条。",
        "Send between 1 and 500 events per request.",
    ),
    // field errors
    (
        "site.code.invalid",
        "站点编号须为 1 至 32 位大写字母、数字或连字符，如 JD-QX。",
        "A site code is 1 to 32 upper-case letters, digits or inner hyphens, such as JD-QX.",
    ),
    (
        "site.code.taken",
        "该站点编号已被使用。",
        "This site code is already taken.",
    ),
    (
        "site.kind.invalid",
        "站点类型须为 district、traffic_branch、town 或 village。",
        "The site kind must be district, traffic_branch, town or village.",
    ),
    (
        "site.parent.unknown",
        "上级站点不存在。",
        "The parent site does not exist.",
    ),
    (
        "site.parent.required",
        "该类型的站点须指定上级站点。",
        "A site of this kind needs a parent site.",
    ),
    (
        "site.parent.not_allowed",
        "区政务服务中心不能有上级站点。",
        "A district centre cannot have a parent site.",
    ),
    (
        "site.parent.wrong_kind",
        "上级站点类型不符：交警分中心和镇（街）中心隶属区中心，村（居）中心隶属镇（街）中心。",
        "Wrong parent kind: branches and towns belong to the district centre, villages to a town centre.",
    ),
    (
        "site.capacity.invalid",
        "容量须为 1 至 100000 之间的整数。",
        "Capacity must be a whole number from 1 to 100000.",
    ),
    ("site.unknown", "站点不存在。", "No such site."),
    ("name.empty", "名称不能为空。", "The name cannot be empty."),
    (
        "name.invalid",
        "名称最多 64 个字符，且不能含控制字符。",
        "A name has at most 64 characters and no control characters.",
    ),
    (
        "sync.id.not_v7",
        "记录编号须为 UUIDv7。",
        "An event id must be a UUIDv7.",
    ),
    (
        "sync.id.repeated",
        "同一批记录中编号重复。",
        "The same event id appears twice in one batch.",
    ),
    (
        "problem.request.invalid",
        "请求有误：地址中的参数或查询条件无效。",
        "The request is not valid: a parameter in the address or query is wrong.",
    ),
    (
        "sync.kind.invalid",
        "记录类型须形如 area.verb（小写字母与下划线）。",
        "An event kind looks like area.verb (lower-case letters and underscores).",
    ),
    (
        "sync.time.future",
        "记录时间晚于当前时间。",
        "The event time lies in the future.",
    ),
    (
        "sync.payload.not_object",
        "记录内容须为 JSON 对象。",
        "An event payload must be a JSON object.",
    ),
    (
        "sync.payload.too_large",
        "单条记录内容不得超过 16 KiB。",
        "An event payload may not exceed 16 KiB.",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn chinese_is_the_default() {
        assert_eq!(Locale::negotiate(&HeaderMap::new()), Locale::ZhCn);
        assert_eq!(
            Locale::negotiate(&headers(&[("accept-language", "fr-FR")])),
            Locale::ZhCn
        );
    }

    #[test]
    fn accept_language_is_read_by_quality() {
        let h = headers(&[("accept-language", "en-US,en;q=0.9,zh-CN;q=0.8")]);
        assert_eq!(Locale::negotiate(&h), Locale::En);
        let h = headers(&[("accept-language", "fr;q=1, en;q=0.5, zh;q=0.7")]);
        assert_eq!(Locale::negotiate(&h), Locale::ZhCn);
        let h = headers(&[("accept-language", "en;q=0")]);
        assert_eq!(Locale::negotiate(&h), Locale::ZhCn);
    }

    #[test]
    fn the_users_choice_wins() {
        let h = headers(&[("accept-language", "zh-CN"), ("cookie", "a=b; lang=en")]);
        assert_eq!(Locale::negotiate(&h), Locale::En);
    }

    #[test]
    fn catalog_keys_are_unique_and_complete() {
        assert_eq!(CATALOG.len(), MESSAGES.len(), "a key appears twice");
        for (k, zh, en) in MESSAGES {
            assert!(!zh.is_empty() && !en.is_empty(), "{k}");
        }
    }

    /// Keys made at run time: every code a `FieldError` or `ApiError` is built with in the
    /// domain, store and web crates, every problem a bare status becomes, every site kind.
    #[test]
    fn every_error_code_and_kind_has_words() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut keys: Vec<String> = Vec::new();
        for dir in ["domain/src", "store/src", "web/src"] {
            for entry in std::fs::read_dir(root.join(dir)).unwrap() {
                let path = entry.unwrap().path();
                if path.ends_with("web/src/i18n.rs") {
                    continue; // this test names the markers itself
                }
                let text = std::fs::read_to_string(path).unwrap();
                for (marker, prefix) in [("FieldError::new(", ""), ("ApiError::new(", "problem.")] {
                    for chunk in text.split(marker).skip(1) {
                        let call = &chunk[..chunk.find(')').unwrap_or(chunk.len())];
                        // The code is the call's last string literal.
                        if let Some(code) = call.split('"').skip(1).step_by(2).last() {
                            keys.push(format!("{prefix}{code}"));
                        }
                    }
                }
            }
        }
        assert!(
            keys.len() > 25,
            "found only {} codes: is the scan broken?",
            keys.len()
        );
        for status in [400u16, 404, 405, 408, 413, 415, 422, 500, 503] {
            let status = axum::http::StatusCode::from_u16(status).unwrap();
            keys.push(format!(
                "problem.{}",
                crate::error::ApiError::for_status(status).code
            ));
        }
        for kind in fangkong_domain::org::SiteKind::ALL {
            keys.push(format!("kind.{}", kind.as_str()));
        }
        for key in keys {
            assert!(CATALOG.contains_key(key.as_str()), "missing message {key}");
        }
    }

    /// Every key looked up by a literal (`shell.t(..)`, `locale.t(..)`) in the templates and
    /// the code is in the table.
    #[test]
    fn every_used_key_exists() {
        let mut sources = Vec::new();
        for dir in ["templates", "src"] {
            let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
            for entry in std::fs::read_dir(root).unwrap() {
                sources.push(std::fs::read_to_string(entry.unwrap().path()).unwrap());
            }
        }
        let mut used = 0;
        for text in &sources {
            for chunk in text.split(".t(\"").skip(1) {
                let key = chunk.split('"').next().unwrap();
                assert!(CATALOG.contains_key(key), "missing message {key}");
                used += 1;
            }
        }
        assert!(used > 20, "found only {used} keys: is the scan broken?");
    }
}
