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
    // accounts, access, audit, organisation, personal data
    (
        "site.address.invalid",
        "地址最多 200 个字符，且不能含控制字符。",
        "An address has at most 200 characters and no control characters.",
    ),
    ("person.remove", "移除", "Remove"),
    ("field.setup_code", "设置码", "Setup code"),
    (
        "setup.code_hint",
        "服务器启动时在控制台打印的 10 位设置码。",
        "The 10-character code the server printed when it started.",
    ),
    (
        "setup.code.wrong",
        "设置码不正确，请查看服务器启动时打印的设置码。",
        "Wrong setup code: see the code the server printed at start.",
    ),
    ("field.unit_code", "单位编号", "Unit code"),
    ("field.unit_name", "单位名称", "Unit name"),
    (
        "field.windows",
        "窗口号（用逗号分隔）",
        "Window numbers (comma-separated)",
    ),
    ("org.add_unit", "添加进驻单位", "Add resident unit"),
    (
        "org.bureau_hint",
        "本局（政务服务数据管理局）",
        "The bureau itself",
    ),
    (
        "unit.code.taken",
        "该单位编号已存在。",
        "This unit code already exists.",
    ),
    (
        "unit.windows.taken",
        "窗口号已被其他单位使用。",
        "A window number is already used by another unit.",
    ),
    (
        "unit.windows.invalid",
        "窗口号须为 1 至 999 的整数，用逗号分隔，不能重复。",
        "Window numbers are whole numbers from 1 to 999, comma-separated, without repeats.",
    ),
    ("nav.org", "组织机构", "Organisation"),
    ("nav.users", "账户管理", "Accounts"),
    ("nav.audit", "审计日志", "Audit log"),
    ("nav.login", "登录", "Sign in"),
    ("nav.logout", "退出", "Sign out"),
    ("welcome.title", "欢迎", "Welcome"),
    (
        "welcome.door",
        "请佩戴口罩并接受体温检测",
        "Please wear a mask and have your temperature taken",
    ),
    (
        "welcome.body",
        "工作人员请登录后使用本平台。办事市民请按现场指引办理。",
        "Staff: please sign in. Citizens: please follow the directions on site.",
    ),
    ("login.title", "登录", "Sign in"),
    ("login.submit", "登录", "Sign in"),
    (
        "login.hint",
        "连续输错 5 次密码，账户或本机将被锁定 15 分钟。忘记密码请联系管理员重置。",
        "After 5 wrong attempts the account or this device is locked for 15 minutes. Forgot your password? Ask an administrator to reset it.",
    ),
    (
        "login.failed",
        "用户名或密码错误。",
        "Wrong user name or password.",
    ),
    (
        "login.locked",
        "尝试次数过多，请 15 分钟后再试，或联系管理员解锁。",
        "Too many attempts. Try again in 15 minutes, or ask an administrator to unlock.",
    ),
    (
        "login.expired",
        "登录已超时，请重新登录。",
        "Your session has ended. Please sign in again.",
    ),
    ("setup.title", "初次设置", "First-run setup"),
    (
        "setup.intro",
        "建立第一个站点（区政务服务中心）和系统管理员账户。完成后即可登录使用。",
        "Create the first site (the district service centre) and the administrator's account. Then sign in.",
    ),
    ("setup.site", "站点", "Site"),
    ("setup.admin", "管理员", "Administrator"),
    ("setup.submit", "完成设置", "Finish setup"),
    ("field.username", "用户名", "User name"),
    ("field.password", "密码", "Password"),
    ("field.new_password", "新密码", "New password"),
    ("field.initial_password", "初始密码", "Initial password"),
    ("field.current_password", "当前密码", "Current password"),
    ("field.confirm", "再次输入密码", "Repeat the password"),
    ("field.role", "角色", "Role"),
    ("field.site", "站点", "Site"),
    ("field.site_code", "站点编号", "Site code"),
    ("field.site_name", "站点名称", "Site name"),
    (
        "field.capacity",
        "容量（同时在场人数）",
        "Capacity (people inside at once)",
    ),
    ("field.address", "地址", "Address"),
    ("field.parent", "上级站点", "Parent site"),
    ("field.opening_hours", "开放时间", "Opening hours"),
    (
        "field.threshold",
        "体温阈值（℃）",
        "Temperature threshold (°C)",
    ),
    ("field.checkpoint_code", "入口编号", "Entrance code"),
    ("field.checkpoint_name", "入口名称", "Entrance name"),
    ("field.label", "用途", "Purpose"),
    ("field.person_name", "姓名", "Name"),
    ("field.kind", "类别", "Kind"),
    ("field.unit", "所属单位", "Unit"),
    ("field.job", "职务", "Job"),
    ("field.phone", "手机号码", "Mobile phone"),
    ("field.id_number", "身份证号码", "Resident ID number"),
    (
        "form.fix",
        "请按提示修改后再提交。",
        "Please correct the fields shown.",
    ),
    ("form.save", "保存", "Save"),
    ("form.saved", "已保存。", "Saved."),
    ("account.title", "我的账户", "My account"),
    ("account.password", "修改密码", "Change password"),
    ("account.password.submit", "修改密码", "Change password"),
    (
        "account.must_change",
        "管理员已重置您的密码，请先设置新密码。",
        "An administrator reset your password: please choose a new one first.",
    ),
    ("account.tokens", "接口令牌", "API tokens"),
    ("token.create", "生成令牌", "Create token"),
    ("token.created", "令牌已生成。", "Token created."),
    (
        "token.once",
        "请立即复制保存，此令牌只显示这一次。",
        "Copy it now: this token is shown only once.",
    ),
    ("token.none", "尚无令牌。", "No tokens yet."),
    ("token.created_at", "生成时间", "Created"),
    ("token.expires", "到期时间", "Expires"),
    ("token.revoke", "吊销", "Revoke"),
    ("token.dead", "已失效", "Ended"),
    ("users.title", "账户管理", "Accounts"),
    (
        "users.intro",
        "为本站点及下级站点的工作人员建立账户。新账户首次登录须修改密码。",
        "Accounts for staff of your site and the sites below it. A new account must change its password at first sign-in.",
    ),
    ("users.list", "账户", "Accounts"),
    ("users.actions", "操作", "Actions"),
    ("users.must_change", "待改密码", "Must change password"),
    ("users.reset", "重置密码", "Reset password"),
    ("users.unlock", "解除锁定", "Unlock"),
    ("users.new", "新建账户", "New account"),
    ("users.create", "建立账户", "Create account"),
    ("user.created", "账户已建立。", "Account created."),
    (
        "user.reset_done",
        "密码已重置，该账户的登录和令牌均已失效。",
        "Password reset; the account's sessions and tokens have ended.",
    ),
    ("user.unlocked", "已解除锁定。", "Unlocked."),
    ("user.linked", "已关联工作人员。", "Staff member linked."),
    ("users.link", "关联工作人员", "Link a staff member"),
    ("users.link_who", "此账号属于", "This account belongs to"),
    ("users.link_none", "（不关联）", "(nobody)"),
    ("users.link_save", "保存", "Save"),
    ("audit.title", "审计日志", "Audit log"),
    (
        "audit.intro",
        "所有变更、个人信息查看和登录失败均记录在案，记录以哈希链相连，任何修改或删除都可被 `fangkong audit verify` 发现。",
        "Every change, every reveal of personal data and every failed sign-in is recorded. Entries are hash-chained: `fangkong audit verify` detects any edit or deletion.",
    ),
    ("audit.actor", "操作人", "Who"),
    ("audit.action", "操作", "Action"),
    ("audit.target", "对象", "Target"),
    ("audit.addr", "来源地址", "From"),
    ("audit.outcome", "结果", "Outcome"),
    ("audit.detail", "详情", "Details"),
    ("audit.time", "时间", "When"),
    ("audit.any", "全部", "Any"),
    ("audit.from", "起始日期", "From"),
    ("audit.until", "截止日期", "Until"),
    ("audit.filter", "筛选", "Filter"),
    ("audit.empty", "没有符合条件的记录。", "No entries match."),
    ("audit.older", "更早的记录", "Older entries"),
    ("audit.outcome.ok", "成功", "Succeeded"),
    ("audit.outcome.failed", "失败", "Failed"),
    ("audit.outcome.denied", "拒绝", "Denied"),
    ("org.title", "组织机构", "Organisation"),
    (
        "org.intro",
        "区政务服务中心及下属交警分中心、镇（街）和村（居）服务中心，均参照本方案开展防控。",
        "The district centre and the traffic branch, town and village centres under it, each running the plan.",
    ),
    ("org.new_site", "新建下级站点", "New site below"),
    ("org.create_site", "建立站点", "Create site"),
    ("org.details", "基本信息", "Details"),
    ("org.checkpoints", "出入口", "Entrances"),
    ("org.main_entrance", "主入口", "Main entrance"),
    ("org.add_checkpoint", "添加出入口", "Add entrance"),
    ("org.units", "进驻单位与窗口", "Resident units and windows"),
    ("org.windows", "窗口号", "Windows"),
    ("org.bureau", "本局", "Bureau"),
    ("org.people", "工作人员与志愿者", "Staff and volunteers"),
    (
        "org.groups",
        "领导小组与工作小组",
        "Leadership and working groups",
    ),
    (
        "people.intro",
        "个人信息默认打码显示；查看原文须有权限，且每次查看均记入审计日志。",
        "Personal data is masked; revealing it needs permission and every reveal is audited.",
    ),
    ("people.new", "登记人员", "Add a person"),
    ("people.add", "登记", "Add"),
    (
        "people.collect_notice",
        "仅为疫情防控收集：姓名用于排班和台账，手机号码用于紧急联系，身份证号码用于可疑病例上报。加密保存，由本中心疫情防控领导小组负责管理。",
        "Collected only for epidemic prevention: the name for rosters and the ledger, the phone for urgent contact, the ID number for suspected-case reports. Stored encrypted, kept by this centre's leadership group.",
    ),
    ("person.kind.staff", "工作人员", "Staff"),
    ("person.kind.volunteer", "志愿者", "Volunteer"),
    ("person.reveal", "查看", "Reveal"),
    ("person.revealed", "已查看（已记录）", "Revealed (recorded)"),
    (
        "person.reveal_hint",
        "点击“查看”显示单项原文，操作将被记录。",
        "“Reveal” shows one field in full; it is recorded.",
    ),
    ("person.reveal_failed", "无法查看", "Cannot reveal"),
    (
        "groups.intro",
        "疫情防控领导小组下设综合保障组、优化服务组、网络网站组、热线舆情组、采购服务组，各负其责。",
        "The leadership group and its five working groups, each with its own duties.",
    ),
    ("groups.duties", "职责", "Duties"),
    ("groups.person", "人员", "Person"),
    ("groups.position", "职务", "Position"),
    ("groups.add", "加入", "Add"),
    ("groups.remove", "移出", "Remove"),
    ("group.leadership", "疫情防控领导小组", "Leadership group"),
    ("group.support", "综合保障组", "Support group"),
    ("group.service", "优化服务组", "Service group"),
    ("group.web", "网络网站组", "Web group"),
    ("group.hotline", "热线舆情组", "Hotline group"),
    ("group.procurement", "采购服务组", "Procurement group"),
    ("position.head", "组长", "Head"),
    (
        "position.executive_deputy",
        "常务副组长",
        "Executive deputy head",
    ),
    ("position.deputy", "副组长", "Deputy head"),
    ("position.member", "成员", "Member"),
    ("role.admin", "系统管理员", "Administrator"),
    ("role.leader", "领导小组", "Leadership group"),
    ("role.support", "综合保障组", "Support group"),
    ("role.service", "优化服务组", "Service group"),
    ("role.web", "网络网站组", "Web group"),
    ("role.hotline", "热线舆情组", "Hotline group"),
    ("role.procurement", "采购服务组", "Procurement group"),
    ("role.volunteer", "健康检查志愿者", "Door volunteer"),
    ("role.window", "窗口工作人员", "Window staff"),
    ("role.unit_admin", "进驻单位管理员", "Unit administrator"),
    (
        "role.upper",
        "区防控指挥部办公室",
        "District command office",
    ),
    ("role.public", "公众", "Public"),
    ("error.403.title", "没有权限", "Not allowed"),
    (
        "error.403.body",
        "您的账户没有此操作的权限，或请求已过期（请刷新页面后重试）。",
        "Your account may not do this, or the form has expired (reload the page and try again).",
    ),
    ("error.401.title", "请先登录", "Please sign in"),
    (
        "error.401.body",
        "此页面需要登录后访问。",
        "This page needs you to sign in.",
    ),
    ("error.400.title", "请求有误", "Bad request"),
    (
        "error.400.body",
        "提交的内容有误，请返回修改。",
        "Something in the request is wrong; please go back and correct it.",
    ),
    (
        "problem.auth.required",
        "请先登录或提供接口令牌（Authorization: Bearer …）。",
        "Sign in or send an API token (Authorization: Bearer …).",
    ),
    (
        "problem.auth.expired",
        "登录已超时，请重新登录。",
        "The session has ended; sign in again.",
    ),
    (
        "problem.auth.token_invalid",
        "接口令牌无效、已过期或已吊销。",
        "The API token is invalid, expired or revoked.",
    ),
    (
        "problem.auth.failed",
        "用户名或密码错误。",
        "Wrong user name or password.",
    ),
    (
        "problem.auth.locked",
        "尝试次数过多，请 15 分钟后再试。",
        "Too many attempts; try again in 15 minutes.",
    ),
    (
        "problem.forbidden",
        "您的账户没有此操作的权限。",
        "Your account may not do this.",
    ),
    (
        "problem.csrf.invalid",
        "请求缺少有效的防伪令牌，请刷新页面后重试。",
        "The request lacks a valid anti-forgery token; reload the page and try again.",
    ),
    (
        "problem.setup.required",
        "系统尚未完成初次设置，请先在 /setup 建立管理员。",
        "Setup is not complete: create the administrator at /setup first.",
    ),
    (
        "problem.password.must_change",
        "请先登录网页修改密码。",
        "Change your password on the web page first.",
    ),
    (
        "user.username.invalid",
        "用户名须为 3 至 32 位小写字母、数字、点、连字符或下划线。",
        "A user name is 3 to 32 lower-case letters, digits, dots, hyphens or underscores.",
    ),
    (
        "user.username.taken",
        "该用户名已被使用。",
        "This user name is taken.",
    ),
    (
        "user.role.invalid",
        "请选择有效的角色。",
        "Choose a valid role.",
    ),
    (
        "password.short",
        "密码至少 10 个字符。",
        "A password has at least 10 characters.",
    ),
    (
        "password.long",
        "密码最多 128 个字符。",
        "A password has at most 128 characters.",
    ),
    (
        "password.common",
        "该密码过于常见，容易被猜中，请换一个。",
        "This password is too common and easily guessed; choose another.",
    ),
    (
        "password.username",
        "密码不能包含用户名。",
        "The password cannot contain the user name.",
    ),
    (
        "password.simple",
        "密码过于简单（如连续或重复的字符），请换一个。",
        "The password is too simple (a run or repetition of characters); choose another.",
    ),
    (
        "password.mismatch",
        "两次输入的密码不一致。",
        "The two passwords differ.",
    ),
    (
        "password.hash_failed",
        "暂时无法保存密码，请稍后重试。",
        "The password cannot be saved right now; try again later.",
    ),
    (
        "password.current_wrong",
        "当前密码不正确。",
        "The current password is wrong.",
    ),
    (
        "password.same",
        "新密码不能与当前密码相同。",
        "The new password must differ from the current one.",
    ),
    (
        "token.label.invalid",
        "用途最多 64 个字符。",
        "The purpose has at most 64 characters.",
    ),
    (
        "id_number.empty",
        "请填写身份证号码。",
        "Enter the ID number.",
    ),
    (
        "id_number.length",
        "身份证号码须为 18 位：17 位数字加 1 位数字或 X。",
        "An ID number has 18 characters: 17 digits and a digit or X.",
    ),
    (
        "id_number.checksum",
        "身份证号码校验位不正确，请核对。",
        "The ID number's check digit is wrong; please check it.",
    ),
    (
        "id_number.birth_date",
        "身份证号码中的出生日期无效。",
        "The birth date in the ID number is not valid.",
    ),
    (
        "phone.empty",
        "请填写手机号码。",
        "Enter the mobile number.",
    ),
    (
        "phone.invalid",
        "手机号码须为 11 位，以 1 开头。",
        "A mobile number has 11 digits and starts with 1.",
    ),
    ("person_name.empty", "请填写姓名。", "Enter the name."),
    (
        "person_name.invalid",
        "姓名最多 30 个字，不能含数字或特殊字符。",
        "A name has at most 30 characters, without digits or special characters.",
    ),
    (
        "person.kind.invalid",
        "类别须为工作人员或志愿者。",
        "The kind is staff or volunteer.",
    ),
    (
        "person.unit.unknown",
        "该单位不在本站点。",
        "This unit is not at this site.",
    ),
    (
        "person.id_number.taken",
        "该身份证号码已登记。",
        "This ID number is already registered.",
    ),
    (
        "person.field.invalid",
        "可查看的字段为 name、phone、id_number。",
        "The fields that can be revealed are name, phone and id_number.",
    ),
    (
        "site.hours.invalid",
        "开放时间格式如 08:30-12:00,14:30-17:30，时段须先后有序。",
        "Opening hours look like 08:30-12:00,14:30-17:30, in order.",
    ),
    (
        "site.threshold.invalid",
        "体温阈值须在 36.0 至 40.0 ℃ 之间，最多一位小数。",
        "The threshold is 36.0 to 40.0 °C with at most one decimal.",
    ),
    (
        "checkpoint.code.taken",
        "该入口编号已存在。",
        "This entrance code already exists.",
    ),
    ("group.kind.invalid", "没有这个工作小组。", "No such group."),
    (
        "group.position.invalid",
        "该小组没有这个职务。",
        "This group has no such position.",
    ),
    (
        "group.position.taken",
        "该职务已有人担任，请先将其移出。",
        "Someone already holds this position; remove them first.",
    ),
    (
        "group.person.unknown",
        "请选择本站点的人员。",
        "Choose a person of this site.",
    ),
    (
        "group.duties.invalid",
        "职责最多 2000 字。",
        "Duties have at most 2000 characters.",
    ),
    // entrance screening
    ("nav.door", "门口检测", "Door"),
    ("nav.buffer", "缓冲区", "Buffer zone"),
    ("nav.occupancy", "在场人数", "Occupancy"),
    ("nav.staff_checks", "我的体温", "My check"),
    ("nav.staff_missing", "员工检测", "Staff checks"),
    ("nav.records", "检测记录", "Door records"),
    ("nav.devices", "设备", "Devices"),
    ("live", "实时", "live"),
    ("unit.minutes", "分钟", "min"),
    ("unit.days", "天", "days"),
    ("door.title", "门口检测", "Door screening"),
    (
        "door.choose",
        "选择您值守的入口。",
        "Choose the entrance you keep.",
    ),
    ("door.poster", "打印二维码海报", "Print the QR poster"),
    ("door.inside", "馆内", "Inside"),
    ("door.threshold", "复检线", "Threshold"),
    ("door.keypad", "体温键盘", "Temperature keypad"),
    ("door.point", "小数点", "decimal point"),
    ("door.back", "删除", "delete"),
    (
        "door.registration",
        "登记号（选填）",
        "Registration no. (optional)",
    ),
    ("door.mask_yes", "已戴口罩 · 提交", "Mask on · record"),
    ("door.mask_no", "未戴口罩 · 提交", "No mask · record"),
    ("door.mask_worn", "已戴口罩", "Wearing a mask"),
    ("door.exit", "有人离开 −1", "Someone left −1"),
    ("door.staff_member", "工作人员", "Staff member"),
    ("door.exit_recorded", "已记录离开", "Exit recorded"),
    ("door.recent", "最近记录", "Recent"),
    ("door.queued", "待发送", "waiting to send"),
    ("door.sent", "已保存", "saved"),
    (
        "door.offline",
        "网络中断：记录已暂存，恢复后自动发送",
        "Offline: entries are kept and sent when the link returns",
    ),
    ("door.online", "在线", "Online"),
    ("door.rejected", "未保存：", "Not saved: "),
    (
        "door.signin",
        "登录已过期，请重新登录；记录已暂存",
        "Signed out: sign in again; entries are kept",
    ),
    (
        "door.direction.in",
        "进入由检测结果“请进”计数，这里只记录离开",
        "Entries are counted by admit decisions; record exits only",
    ),
    (
        "door.direction.invalid",
        "方向只能是 out（离开）",
        "Direction must be out",
    ),
    ("decision.admit", "请进", "Please enter"),
    (
        "decision.refuse_no_mask",
        "请佩戴口罩",
        "Please wear a mask",
    ),
    (
        "decision.buffer",
        "请到缓冲区复检",
        "Please go to the buffer zone for a re-check",
    ),
    ("decision.wait", "请稍候", "Please wait"),
    ("kind.citizen", "群众", "Citizen"),
    ("kind.window_staff", "窗口工作人员", "Window staff"),
    ("kind.bureau_staff", "机关工作人员", "Bureau staff"),
    ("kind.other", "其他人员", "Other"),
    ("phase.none", "非上下班检测", "Not a shift check"),
    ("phase.pre_shift", "上班前", "Before work"),
    ("phase.post_shift", "下班后", "After work"),
    ("field.subject_kind", "人员类别", "Who"),
    ("field.temperature", "体温", "Temperature"),
    ("field.mask", "口罩", "Mask"),
    ("field.decision", "检测结果", "Decision"),
    ("field.buffer", "缓冲区", "Buffer zone"),
    ("field.time", "时间", "Time"),
    ("field.checkpoint", "入口", "Entrance"),
    ("field.phase", "检测时段", "Check"),
    ("field.recorded_by", "记录人", "Recorded by"),
    ("field.date", "日期", "Date"),
    ("field.name", "名称", "Name"),
    ("mask.yes", "已戴", "Yes"),
    ("mask.no", "未戴", "No"),
    ("filter.all", "全部", "All"),
    ("filter.apply", "筛选", "Filter"),
    ("filter.from", "起始日期", "From"),
    ("filter.until", "截止日期", "Until"),
    (
        "date.invalid",
        "日期格式应为 年-月-日",
        "Write the date as YYYY-MM-DD",
    ),
    (
        "screening.temperature.missing",
        "请输入体温",
        "Enter the temperature",
    ),
    (
        "screening.temperature.invalid",
        "体温应为数字，例如 36.6",
        "The temperature must be a number such as 36.6",
    ),
    (
        "screening.temperature.range",
        "读数不在 34.0–43.0 °C 之间，属测量误差，请重新测量",
        "A reading outside 34.0–43.0 °C is a measurement error: measure again",
    ),
    (
        "screening.kind.invalid",
        "请选择人员类别",
        "Choose who is measured",
    ),
    (
        "screening.mask.missing",
        "请选择是否佩戴口罩",
        "Say whether a mask is worn",
    ),
    (
        "screening.phase.invalid",
        "检测时段只能是上班前或下班后",
        "The check is before or after work",
    ),
    (
        "screening.phase.not_staff",
        "上下班检测只适用于工作人员",
        "Shift checks are for staff only",
    ),
    (
        "screening.checkpoint.unknown",
        "没有这个入口",
        "No such entrance",
    ),
    (
        "screening.person.unknown",
        "本站点没有这位工作人员",
        "No such staff member at this site",
    ),
    (
        "screening.registration.invalid",
        "登记号是 4 位数字",
        "A registration number has four digits",
    ),
    (
        "screening.registration.unknown",
        "今天本站点没有这个登记号",
        "No such registration here today",
    ),
    (
        "screening.registration.full",
        "今天的登记号已用完，请直接到门口登记",
        "Today's numbers are used up: register at the door",
    ),
    (
        "screening.at.invalid",
        "检测时间不能早于 24 小时前",
        "A reading cannot be older than 24 hours",
    ),
    (
        "screening.decision.invalid",
        "未知的检测结果",
        "Unknown decision",
    ),
    ("screening.symptom.unknown", "未知的症状", "Unknown symptom"),
    (
        "screening.outcome.invalid",
        "复检结论只能是放行、再次复检或疑似",
        "The outcome is cleared, recheck or suspected",
    ),
    (
        "screening.recheck.exhausted",
        "复检次数已用完，请作出结论",
        "No re-checks remain: decide",
    ),
    (
        "screening.travel.place",
        "请填写去过的地点（50 字以内）",
        "Name the place (at most 50 characters)",
    ),
    (
        "screening.travel.future",
        "旅行日期不能晚于今天",
        "Travel dates cannot be in the future",
    ),
    (
        "screening.travel.too_old",
        "只需填写 14 天内的行程",
        "Only the last 14 days are asked",
    ),
    (
        "screening.travel.order",
        "结束日期不能早于开始日期",
        "The end date cannot be before the start",
    ),
    (
        "screening.travel.date",
        "请填写行程的开始和结束日期",
        "Give the start and end dates of the stay",
    ),
    (
        "screening.travel.too_many",
        "最多填写 10 段行程",
        "At most 10 stays",
    ),
    (
        "screening.details.too_long",
        "备注最多 500 字",
        "Details are at most 500 characters",
    ),
    (
        "problem.screening.not_waiting",
        "此人已不在缓冲区等候",
        "This person is no longer waiting in the buffer zone",
    ),
    (
        "problem.screening.recheck.early",
        "休息时间未到，请稍后复检",
        "The rest is not over yet: re-check later",
    ),
    (
        "problem.staff.not_linked",
        "您的账号未关联工作人员",
        "Your account is not linked to a staff member",
    ),
    ("buffer.title", "缓冲区", "Buffer zone"),
    (
        "buffer.intro",
        "体温异常人员在此休息后复检，并询问症状与流行病学史。",
        "People with a high reading rest here, are re-checked and asked about symptoms and exposure.",
    ),
    ("buffer.list", "等候复检", "Waiting for a re-check"),
    ("buffer.empty", "缓冲区现在没有人。", "Nobody is waiting."),
    ("buffer.waited", "已等候", "Waited"),
    ("buffer.rechecks", "复检次数", "Re-checks"),
    ("buffer.recheck_now", "现在复检", "Re-check now"),
    ("buffer.recheck_at", "复检时间", "Re-check at"),
    ("buffer.waiting", "等候复检", "Waiting"),
    ("recheck.title", "缓冲区复检", "Buffer-zone re-check"),
    ("recheck.earlier", "此前复检", "Earlier re-checks"),
    ("recheck.symptoms", "症状", "Symptoms"),
    (
        "recheck.questions",
        "流行病学史（近 14 天）",
        "Exposure (last 14 days)",
    ),
    (
        "recheck.travel",
        "14 天内是否到过外地？如有，请填写地点和日期。",
        "Travel outside the district in the last 14 days? If so, where and when.",
    ),
    ("recheck.travel_place", "地点", "Place"),
    ("recheck.travel_from", "从", "From"),
    ("recheck.travel_to", "至", "To"),
    (
        "recheck.epidemic_area_contact",
        "接触过来自疫区的人员",
        "Contact with people from epidemic areas",
    ),
    (
        "recheck.animal_contact",
        "接触过哺乳动物、禽类或野生动物",
        "Contact with mammals, poultry or wild animals",
    ),
    (
        "recheck.case_contact",
        "与类似病例有密切接触",
        "Close contact with similar cases",
    ),
    ("recheck.details", "备注", "Details"),
    ("recheck.outcome", "结论", "Outcome"),
    ("recheck.outcome_rule", "按规则判定", "Decide by the rule"),
    ("recheck.submit", "保存复检", "Save the re-check"),
    (
        "recheck.case_opened",
        "已建立疑似病例记录",
        "A suspected-case record was opened",
    ),
    ("recheck.back", "返回缓冲区", "Back to the buffer zone"),
    ("outcome.cleared", "复检正常，请进", "Normal: please enter"),
    (
        "outcome.recheck",
        "继续休息，稍后再次复检",
        "Rest, then another re-check",
    ),
    (
        "outcome.suspected",
        "疑似病例：立即报告",
        "Suspected case: report at once",
    ),
    ("symptom.fever", "发热", "Fever"),
    ("symptom.cough", "咳嗽", "Cough"),
    ("symptom.fatigue", "乏力", "Fatigue"),
    ("symptom.sore_throat", "咽痛", "Sore throat"),
    (
        "symptom.breathing_difficulty",
        "呼吸困难",
        "Breathing difficulty",
    ),
    ("symptom.diarrhoea", "腹泻", "Diarrhoea"),
    ("occupancy.title", "在场人数", "Occupancy"),
    (
        "occupancy.intro",
        "各大厅馆内人数与容量，实时更新。",
        "People inside each hall against its capacity, live.",
    ),
    ("occupancy.now", "现在", "Now"),
    ("occupancy.total", "人在馆内（合计）", "inside in all"),
    ("occupancy.load", "占用", "Load"),
    ("occupancy.peak", "今日峰值", "Today's peak"),
    ("occupancy.full", "已满", "Full"),
    ("occupancy.correct", "更正人数", "Correct the count"),
    ("occupancy.set", "更正", "Set"),
    (
        "occupancy.inside.invalid",
        "人数应为 0 到容量两倍之间的整数",
        "The count is a whole number from 0 to twice the capacity",
    ),
    ("staff.title", "上下班体温检测", "Shift temperature checks"),
    (
        "staff.intro",
        "工作人员上班前、下班后各测一次体温。",
        "Staff are measured before and after work.",
    ),
    ("staff.record", "记录体温", "Record a check"),
    ("staff.submit", "提交", "Record"),
    ("staff.done", "已测", "done"),
    ("staff.missing", "未测", "missing"),
    (
        "staff.not_linked",
        "您的账号尚未关联到工作人员名单，请联系管理员；也可在门口由志愿者测量。",
        "Your account is not linked to a staff member: ask an administrator, or be measured at the door.",
    ),
    ("staff.missing_title", "员工检测情况", "Staff checks"),
    (
        "staff.missing_people",
        "人缺少检测",
        "people missing a check",
    ),
    ("staff.no_unit", "未分单位", "No unit"),
    (
        "staff.none",
        "本站点还没有工作人员。",
        "No staff at this site yet.",
    ),
    ("records.title", "检测记录", "Door records"),
    (
        "records.intro",
        "门口检测记录（个人信息已脱敏）。未涉疑似的记录保存期满后自动删除，只保留统计数。",
        "Door records (personal fields masked). Records of people never suspected are deleted after the retention period; counts are kept.",
    ),
    ("records.csv", "导出 CSV", "Export CSV"),
    ("records.xlsx", "导出 Excel", "Export Excel"),
    ("records.empty", "没有符合条件的记录。", "No records match."),
    ("records.older", "更早的记录", "Older records"),
    ("records.sheet", "检测记录", "Door records"),
    ("devices.title", "检测设备", "Devices"),
    (
        "devices.intro",
        "热成像测温仪和门口计数器用设备令牌通过 HTTP 或 MQTT 上报。",
        "Thermal scanners and door counters report with a device token over HTTP or MQTT.",
    ),
    ("devices.list", "已登记设备", "Registered devices"),
    ("devices.none", "还没有设备。", "No devices yet."),
    ("devices.state", "状态", "State"),
    ("devices.active", "可用", "active"),
    ("devices.revoked", "已停用", "revoked"),
    ("devices.revoke", "停用", "Revoke"),
    ("devices.new", "登记设备", "Register a device"),
    ("devices.create", "登记", "Register"),
    ("devices.created", "已登记设备", "Device registered:"),
    (
        "devices.token_once",
        "设备令牌只显示这一次，请立即配置到设备中：",
        "The device token is shown only once; configure the device now:",
    ),
    ("devices.mqtt_hint", "MQTT 主题：", "MQTT topic:"),
    (
        "device.name.invalid",
        "名称为 2–32 个字母、数字或连字符",
        "A name is 2 to 32 letters, digits or hyphens",
    ),
    (
        "device.name.taken",
        "这个名称已被使用",
        "This name is taken",
    ),
    ("poster.title", "入口告示", "Door notice"),
    (
        "poster.notice",
        "请佩戴口罩并接受体温检测",
        "Please wear a mask and have your temperature taken",
    ),
    (
        "poster.sub",
        "进入大厅前请配合测温",
        "Temperature check before entering the hall",
    ),
    (
        "poster.how",
        "扫码预先登记姓名和电话，到门口只需测温",
        "Scan to leave your name and phone first; at the door you are only measured",
    ),
    (
        "poster.privacy",
        "信息仅用于疫情防控，到期自动删除。",
        "Used only for epidemic prevention; deleted when the period ends.",
    ),
    ("register.title", "入场登记", "Entry registration"),
    (
        "problem.registration.rate_limited",
        "登记过于频繁，请稍后再试",
        "Too many registrations from here: try again in a minute",
    ),
    (
        "register.privacy",
        "个人信息告知",
        "About your personal information",
    ),
    ("register.purpose", "用途", "Purpose"),
    (
        "register.purpose_text",
        "仅用于疫情防控中必要时联系您（如出现疑似病例时的追踪）。",
        "Only to reach you when epidemic prevention needs it (tracing around a suspected case).",
    ),
    ("register.keeper", "保管单位", "Kept by"),
    ("register.retention", "保存期限", "Kept for"),
    (
        "register.optional",
        "姓名和电话均为选填；不填写也可以正常入场。",
        "Name and phone are optional: you may enter without them.",
    ),
    ("register.submit", "提交登记", "Register"),
    (
        "register.show",
        "请向门口志愿者出示登记号：",
        "Show this number to the volunteer at the door:",
    ),
    ("register.valid_today", "登记号当天有效。", "Valid today."),
    ("nav.alerts", "警报", "Alerts"),
    ("nav.cases", "疑似病例台账", "Case ledger"),
    ("nav.case_new", "报告疑似病例", "Report a case"),
    ("nav.webhooks", "群机器人", "Group robots"),
    ("filter.invalid", "筛选条件无效", "Invalid filter"),
    ("answer.yes", "是", "Yes"),
    ("answer.no", "否", "No"),
    ("alerts.title", "警报与发热率", "Alerts and fever rates"),
    (
        "alerts.intro",
        "疑似病例与发热率异常立即报告领导小组；超时未确认将逐级升级。",
        "Suspected cases and fever-rate breakouts reach the leadership group at once; unacknowledged alerts escalate step by step.",
    ),
    ("alerts.open", "待确认的警报", "Alerts to acknowledge"),
    (
        "alerts.none",
        "暂无待确认的警报",
        "No alert waits for acknowledgement",
    ),
    (
        "alerts.banner",
        "紧急：有待确认的警报",
        "Urgent: alerts wait for acknowledgement",
    ),
    ("alerts.open_dashboard", "查看全部", "See all"),
    ("alerts.view_case", "查看病例", "See the case"),
    ("alerts.view_chart", "查看趋势", "See the trend"),
    ("alerts.acknowledge", "确认收到", "Acknowledge"),
    ("alerts.acknowledged_by", "确认人", "Acknowledged by"),
    (
        "cases.reported_notice",
        "已保存并立即报告领导小组。",
        "Saved; the leadership group has been alerted.",
    ),
    (
        "cases.seen_at",
        "在大厅的时间（不填为现在）",
        "When in the hall (now if empty)",
    ),
    (
        "cases.seen_at.invalid",
        "时间格式应为 年-月-日 时:分",
        "Give the time as year-month-day hour:minute",
    ),
    (
        "alerts.urgent",
        "报区指挥部的紧急报告",
        "Urgent reports to the district",
    ),
    ("alerts.recent", "最近已确认的警报", "Recently acknowledged"),
    ("alerts.people", "人", "people"),
    ("alerts.level.raised", "已报告", "Reported"),
    (
        "alerts.level.group_head",
        "已升级至组长",
        "Escalated to the group leader",
    ),
    (
        "alerts.level.whole_group",
        "已升级至领导小组全体",
        "Escalated to the whole group",
    ),
    (
        "alerts.level.upward",
        "需向区指挥部报告",
        "Upward report due",
    ),
    (
        "robot.unacknowledged",
        "分钟仍未确认",
        "minutes without acknowledgement",
    ),
    ("robot.title.case", "疑似病例报告", "Suspected case"),
    ("robot.title.ears", "发热率预警", "Fever-rate alert"),
    ("robot.time", "时间", "Time"),
    ("robot.day", "日期", "Day"),
    ("robot.abnormal", "体温异常", "Abnormal temperatures"),
    ("robot.methods", "预警方法", "Methods"),
    ("robot.source", "来源", "Source"),
    ("robot.kind", "人员类别", "Who"),
    ("robot.symptoms", "症状", "Symptoms"),
    ("robot.none", "无", "None"),
    ("robot.highest", "最高体温", "Highest temperature"),
    (
        "robot.ask",
        "请领导小组立即确认并处置。",
        "Leadership group: acknowledge and act now.",
    ),
    ("cases.source.buffer", "缓冲区复检", "Buffer-zone re-check"),
    ("cases.source.staff_check", "员工体温检测", "Staff check"),
    ("cases.source.manual", "人工登记", "Opened by hand"),
    ("cases.status.open", "处置中", "Open"),
    ("cases.status.closed", "已结案", "Closed"),
    ("cases.outcome.excluded", "排除", "Excluded"),
    ("cases.outcome.confirmed", "确诊", "Confirmed"),
    ("cases.outcome.unknown", "不明", "Unknown"),
    (
        "cases.action.fever_clinic",
        "送发热门诊",
        "Escorted to a fever clinic",
    ),
    ("cases.action.sent_home", "劝返居家", "Sent home"),
    ("cases.action.isolated", "隔离观察", "Isolated"),
    (
        "cases.action.handed_to_health",
        "移交卫健部门",
        "Handed to the health authority",
    ),
    ("cases.channel.phone", "电话", "Phone"),
    ("cases.channel.document", "书面报告", "Written report"),
    ("cases.channel.wechat", "微信", "WeChat"),
    (
        "cases.channel.system",
        "系统直报区指挥部",
        "Through this system to the district",
    ),
    ("cases.channel.other", "其他", "Other"),
    ("cases.event.opened", "建立记录", "Opened"),
    ("cases.event.action", "处置", "Action"),
    ("cases.event.outcome", "结果", "Outcome"),
    ("cases.event.acknowledged", "领导小组确认", "Acknowledged"),
    ("cases.event.escalated", "超时升级", "Escalated"),
    ("cases.event.upward_report", "向上报告", "Upward report"),
    ("webhooks.status.pending", "待发送", "Pending"),
    ("webhooks.status.sent", "已发送", "Sent"),
    ("webhooks.status.failed", "失败", "Failed"),
    ("cases.title", "疑似病例台账", "Suspected-case ledger"),
    (
        "cases.intro",
        "窗口工作人员、机关干部与群众的疑似病例监测台账：发现、处置、结果与报告时间。",
        "The monitoring ledger of window staff, bureau staff and citizens: detection, actions, outcome and reporting times.",
    ),
    ("cases.new", "登记疑似病例", "Open a case record"),
    (
        "cases.new_intro",
        "工作人员自述症状或电话报告时人工登记；保存后立即报告领导小组。",
        "For a staff member reporting symptoms, or a call; the leadership group is alerted as soon as it is saved.",
    ),
    ("cases.empty", "暂无疑似病例记录", "No case records"),
    (
        "cases.export",
        "导出台账（Excel）",
        "Export the ledger (Excel)",
    ),
    ("cases.field.status", "状态", "Status"),
    ("cases.field.outcome", "结果", "Outcome"),
    ("cases.highest", "最高体温", "Highest"),
    (
        "cases.times",
        "响应时间（按站点）",
        "Response times by site",
    ),
    ("cases.count", "病例数", "Cases"),
    ("cases.acknowledged", "已确认", "Acknowledged"),
    (
        "cases.mean_ack",
        "平均确认用时（分钟）",
        "Mean minutes to acknowledge",
    ),
    (
        "cases.max_ack",
        "最长确认用时（分钟）",
        "Longest minutes to acknowledge",
    ),
    ("cases.reported", "已上报", "Reported"),
    (
        "cases.mean_report",
        "平均上报用时（分钟）",
        "Mean minutes to report",
    ),
    (
        "cases.max_report",
        "最长上报用时（分钟）",
        "Longest minutes to report",
    ),
    ("cases.onset", "发病日期", "Onset of symptoms"),
    (
        "cases.privacy",
        "个人信息仅用于疫情防控，加密保存；完整信息仅领导小组可导出，每次导出留痕。",
        "Personal data serve epidemic prevention only and are encrypted; only the leadership group may export them in full, and every export is logged.",
    ),
    ("cases.open", "保存并立即报告", "Save and report at once"),
    ("ledger.col.number", "序号", "No."),
    ("ledger.col.opened_at", "发现时间", "Detected"),
    ("ledger.col.site", "单位", "Site"),
    ("ledger.col.source", "来源", "Source"),
    ("ledger.col.kind", "人员类别", "Who"),
    ("ledger.col.name", "姓名", "Name"),
    ("ledger.col.phone", "联系电话", "Phone"),
    ("ledger.col.symptoms", "症状", "Symptoms"),
    ("ledger.col.onset", "发病日期", "Onset"),
    ("ledger.col.temperatures", "体温记录", "Temperatures"),
    (
        "ledger.col.travel",
        "14天内旅居史",
        "Travel in the last 14 days",
    ),
    (
        "ledger.col.epidemic_area",
        "接触疫区人员",
        "Contact with people from epidemic areas",
    ),
    ("ledger.col.animals", "接触动物", "Contact with animals"),
    (
        "ledger.col.case_contact",
        "密切接触类似病例",
        "Close contact with similar cases",
    ),
    ("ledger.col.actions", "处置措施", "Actions taken"),
    ("ledger.col.outcome", "结果", "Outcome"),
    ("ledger.col.outcome_on", "结果日期", "Outcome date"),
    (
        "ledger.col.ack_minutes",
        "确认用时（分钟）",
        "Minutes to acknowledge",
    ),
    (
        "ledger.col.report_minutes",
        "上报用时（分钟）",
        "Minutes to report",
    ),
    (
        "ledger.title",
        "疑似病例监测台账",
        "Suspected-case monitoring ledger",
    ),
    ("ledger.sheet", "台账", "Ledger"),
    ("ledger.period", "期间", "Period"),
    ("ledger.made", "制表时间", "Made"),
    ("ledger.sign.filled", "填报人：", "Filled in by:"),
    ("ledger.sign.checked", "审核人：", "Checked by:"),
    ("ledger.sign.date", "填报日期：", "Date:"),
    ("case.title", "疑似病例记录", "Suspected-case record"),
    ("case.print", "打印记录", "Print the record"),
    ("case.alert", "立即报告", "Immediate report"),
    (
        "case.alert_open",
        "领导小组尚未确认。",
        "The leadership group has not acknowledged it yet.",
    ),
    (
        "case.person",
        "人员与流行病学史",
        "Person and epidemiological history",
    ),
    (
        "case.no_actions",
        "尚未记录处置措施",
        "No action recorded yet",
    ),
    ("case.action", "处置措施", "Action"),
    ("case.note", "备注", "Note"),
    ("case.record_action", "记录处置", "Record the action"),
    ("case.outcome_date", "结果日期", "Outcome date"),
    (
        "case.record_outcome",
        "记录结果并结案",
        "Record the outcome and close",
    ),
    (
        "case.upward",
        "向区指挥部报告",
        "Report to the district command office",
    ),
    ("case.channel", "报告方式", "Channel"),
    ("case.reported_by", "报告人", "Reported by"),
    ("case.content", "报告内容", "Content"),
    ("case.report", "记录报告", "Record the report"),
    ("case.timeline", "处理过程", "Timeline"),
    ("case.printed", "打印时间", "Printed"),
    (
        "exposures.title",
        "同时段在场人员",
        "People present at the same time",
    ),
    (
        "exposures.intro",
        "按门口检测记录推算：来访人员按时间窗估计停留时长，工作人员按上下班体温检测计算在岗时间。",
        "From door records: visitors are taken to stay the window's length; staff are on duty from their pre-shift to their post-shift check.",
    ),
    ("exposures.window", "时间窗（分钟）", "Window (minutes)"),
    ("exposures.back", "返回病例", "Back to the case"),
    (
        "exposures.export_note",
        "导出含完整姓名和电话，仅供卫健部门流调，每次导出留痕。",
        "Exports hold full names and phones for the health authority's tracing; every export is logged.",
    ),
    (
        "exposures.empty",
        "该时间窗内没有其他人员记录",
        "Nobody else was recorded in this window",
    ),
    ("exposures.on_duty", "在岗", "On duty"),
    ("exposures.from", "进入", "From"),
    ("exposures.until", "离开（估计）", "Until (estimated)"),
    ("exposures.overlap", "重叠（分钟）", "Overlap (minutes)"),
    ("exposures.sheet", "在场人员", "Exposures"),
    (
        "fever.title",
        "发热率监测（EARS）",
        "Fever-rate monitoring (EARS)",
    ),
    (
        "fever.intro",
        "按美国疾控中心 EARS 方法，以各站点近7天体温异常人数为基线：C1、C2（隔2天）超过3，或 C3 超过2即预警。",
        "CDC EARS on each site's daily abnormal temperatures against a 7-day baseline: C1 or C2 (2-day guard band) above 3, or C3 above 2, raises an alert.",
    ),
    (
        "fever.caption",
        "近30天每日体温异常人数（红色为预警日）",
        "Abnormal temperatures per day, last 30 days (red: alert days)",
    ),
    ("fever.max", "最高", "max"),
    ("fever.date", "日期", "Day"),
    ("fever.screened", "检测人数", "Screened"),
    ("fever.abnormal", "体温异常", "Abnormal"),
    ("fever.alarms", "预警", "Alarms"),
    ("webhooks.title", "群机器人", "Group robots"),
    (
        "webhooks.intro",
        "疑似病例和发热率预警同时推送到企业微信或钉钉群，失败自动重试。",
        "Cases and fever-rate alerts are also posted to WeCom or DingTalk groups, retried on failure.",
    ),
    ("webhooks.list", "已配置的机器人", "Robots"),
    ("webhooks.empty", "尚未配置机器人", "No robot yet"),
    ("webhooks.label", "名称", "Label"),
    ("webhooks.format", "类型", "Kind"),
    (
        "webhooks.format.wecom",
        "企业微信群机器人",
        "WeCom group robot",
    ),
    ("webhooks.format.dingtalk", "钉钉机器人", "DingTalk robot"),
    ("webhooks.url", "Webhook 地址", "Webhook address"),
    ("webhooks.signed", "加签", "Signed"),
    ("webhooks.disable", "停用", "Turn off"),
    ("webhooks.enable", "启用", "Turn on"),
    ("webhooks.add", "添加机器人", "Add a robot"),
    (
        "webhooks.secret",
        "加签密钥（钉钉，可选）",
        "Signing secret (DingTalk, optional)",
    ),
    (
        "webhooks.privacy",
        "消息只写站点、时间和症状，不含姓名、身份证号或手机号。",
        "Messages name site, time and symptoms only: never a name, ID number or phone number.",
    ),
    ("webhooks.log", "发送记录", "Delivery log"),
    ("webhooks.log_empty", "暂无发送记录", "Nothing sent yet"),
    ("webhooks.level", "级别", "Level"),
    ("webhooks.status", "状态", "Status"),
    ("webhooks.attempts", "尝试次数", "Attempts"),
    ("webhooks.error", "错误", "Error"),
    (
        "cases.evidence.required",
        "至少填写一项症状或一次体温",
        "Give at least one symptom or one temperature",
    ),
    (
        "cases.temperatures.too_many",
        "体温记录过多（最多20次）",
        "Too many temperatures (at most 20)",
    ),
    (
        "cases.onset.future",
        "发病日期不能晚于今天",
        "The onset cannot be after today",
    ),
    (
        "cases.onset.too_old",
        "发病日期过早（最多60天前）",
        "The onset is too long ago (60 days at most)",
    ),
    (
        "cases.outcome.future",
        "结果日期不能晚于今天",
        "The outcome date cannot be after today",
    ),
    (
        "cases.outcome.before_opened",
        "结果日期不能早于发现日期",
        "The outcome date cannot be before the case was opened",
    ),
    ("cases.text.required", "请填写此项", "Please fill this in"),
    (
        "cases.text.too_long",
        "内容过长（最多1000字）",
        "Too long (1,000 characters at most)",
    ),
    (
        "cases.text.invalid",
        "含有无效字符",
        "Contains invalid characters",
    ),
    (
        "cases.reading.future",
        "体温时间不能晚于现在",
        "A reading cannot be in the future",
    ),
    (
        "cases.seen_at.future",
        "到场时间不能晚于现在",
        "The time in the hall cannot be in the future",
    ),
    (
        "cases.screening.unknown",
        "该站点没有这条检测记录",
        "No such door record at this site",
    ),
    (
        "cases.person.unknown",
        "该站点没有这名工作人员",
        "No such staff member at this site",
    ),
    ("cases.action.invalid", "请选择处置措施", "Choose an action"),
    ("cases.outcome.invalid", "请选择结果", "Choose an outcome"),
    (
        "cases.channel.invalid",
        "请选择报告方式",
        "Choose a channel",
    ),
    (
        "cases.upward.future",
        "报告时间不能晚于现在",
        "The report cannot be in the future",
    ),
    (
        "cases.upward.before_opened",
        "报告时间不能早于发现时间",
        "The report cannot be before the case was opened",
    ),
    (
        "cases.window.invalid",
        "时间窗须为5至480分钟",
        "The window must be 5 to 480 minutes",
    ),
    (
        "cases.days.invalid",
        "天数须为14至90",
        "Days must be 14 to 90",
    ),
    (
        "cases.webhook.format",
        "类型须为企业微信或钉钉",
        "The kind must be WeCom or DingTalk",
    ),
    (
        "cases.webhook.url",
        "请填写 http 或 https 开头的有效地址",
        "Give a valid http or https address",
    ),
    (
        "cases.webhook.secret",
        "加签密钥无效",
        "Invalid signing secret",
    ),
    (
        "cases.ears.invalid",
        "EARS 阈值和标准差下限须为正数",
        "EARS thresholds and the SD floor must be positive",
    ),
    (
        "problem.cases.alert.already_acknowledged",
        "该警报已有人确认",
        "This alert was acknowledged already",
    ),
    ("nav.dashboard", "领导看板", "Dashboard"),
    ("nav.reports", "排查日报", "Daily reports"),
    ("nav.reports_archive", "日报档案", "Report archive"),
    (
        "robot.title.report",
        "排查日报未报送",
        "Daily report missing",
    ),
    (
        "robot.report_missing",
        "排查日报截止时仍未报送",
        "daily report not submitted by its deadline",
    ),
    (
        "robot.report_ask",
        "请责任人尽快审核并报送日报。",
        "Responsible person: review and submit the daily report now.",
    ),
    ("alerts.view_report", "查看日报", "View report"),
    ("reports.title", "排查日报", "Daily screening report"),
    (
        "reports.form_title",
        "疫情防控排查日报表",
        "Daily epidemic screening report",
    ),
    ("reports.sheet", "日报", "Report"),
    ("reports.date", "日期", "Date"),
    ("reports.days", "日期切换", "Days"),
    ("reports.deadline", "报送截止", "Deadline"),
    ("reports.print", "打印", "Print"),
    ("reports.archive", "日报档案", "Report archive"),
    (
        "reports.archive_intro",
        "按单位和日期查找已报送的日报（每天显示最新版本）。",
        "Submitted reports by site and date (the latest version of each day).",
    ),
    (
        "reports.archive_empty",
        "该范围内没有已报送的日报。",
        "No submitted reports in this range.",
    ),
    ("reports.from", "自", "From"),
    ("reports.until", "至", "Until"),
    (
        "reports.changed",
        "报送后又有新的记录（如截止后的排查、下岗体温检测），当前数据与已报送版本不同；如需更正，可报送新版本。",
        "Records arrived after this report was submitted (screenings after the deadline, post-shift checks): the figures now differ from the submitted version; submit a new version if a correction is due.",
    ),
    ("reports.figures", "排查数据", "Figures"),
    ("reports.item", "项目", "Item"),
    ("reports.own", "本单位", "This site"),
    ("reports.rollup", "本级汇总", "Roll-up"),
    ("reports.total", "合计", "Total"),
    ("reports.children", "下级单位报送情况", "Sites below"),
    ("reports.completeness", "报送完整率", "Completeness"),
    ("reports.status", "状态", "Status"),
    ("reports.version", "版本", "Version"),
    ("reports.timeliness", "及时性", "Timeliness"),
    ("reports.site_code", "单位代码", "Site code"),
    ("reports.decide", "审核下级日报", "Review this report"),
    ("reports.acknowledge", "确认收到", "Acknowledge"),
    ("reports.return", "退回修改", "Return for correction"),
    ("reports.comment", "审核意见", "Comment"),
    ("reports.submit", "审核并报送", "Review and submit"),
    ("reports.resubmit", "报送新版本", "Submit a new version"),
    (
        "reports.submit_hint",
        "数据由系统自动汇总，无需手工填写；报送后数据冻结，之后的更正作为新版本报送。异常情况请在备注中优先说明。",
        "Figures are assembled from the records; nobody retypes them. Submitting freezes them; later corrections go up as a new version. Put anomalies first in the remarks.",
    ),
    ("reports.remarks", "备注", "Remarks"),
    ("reports.versions", "报送记录", "Versions"),
    ("reports.no_versions", "尚未报送。", "Not submitted yet."),
    ("reports.submitted", "报送", "Submitted"),
    ("reports.decided", "审核", "Decided"),
    ("reports.status.draft", "未报送", "Not submitted"),
    ("reports.status.submitted", "已报送", "Submitted"),
    ("reports.status.acknowledged", "已确认", "Acknowledged"),
    ("reports.status.returned", "已退回", "Returned"),
    ("reports.timeliness.due", "未到截止时间", "Due"),
    ("reports.timeliness.on_time", "按时", "On time"),
    ("reports.timeliness.late", "迟报", "Late"),
    ("reports.timeliness.missing", "未报", "Missing"),
    ("reports.group.door", "入口排查", "Door screening"),
    ("reports.group.buffer", "缓冲区复检", "Buffer zone"),
    (
        "reports.group.cases",
        "疑似病例与预警",
        "Suspected cases and alerts",
    ),
    ("reports.group.staff", "工作人员体温检测", "Staff checks"),
    ("reports.group.occupancy", "场内人数", "Occupancy"),
    ("reports.f.screened", "排查人数", "People screened"),
    (
        "reports.f.screened_citizens",
        "其中：办事群众",
        "of whom citizens",
    ),
    (
        "reports.f.screened_window_staff",
        "其中：窗口工作人员",
        "of whom window staff",
    ),
    (
        "reports.f.screened_bureau_staff",
        "其中：机关工作人员",
        "of whom bureau staff",
    ),
    (
        "reports.f.screened_other",
        "其中：其他人员",
        "of whom others",
    ),
    ("reports.f.admitted", "准予进入", "Admitted"),
    (
        "reports.f.refused_no_mask",
        "未戴口罩劝离",
        "Refused for no mask",
    ),
    (
        "reports.f.sent_to_buffer",
        "体温异常转缓冲区",
        "Sent to the buffer zone",
    ),
    ("reports.f.waited", "排队等候", "Asked to wait"),
    ("reports.f.no_mask", "未戴口罩人次", "Without a mask"),
    ("reports.f.door_in", "进入人次（计数）", "Passages in"),
    ("reports.f.door_out", "离开人次（计数）", "Passages out"),
    ("reports.f.rechecked", "复检次数", "Re-checks"),
    ("reports.f.cleared", "复检正常放行", "Cleared by re-check"),
    ("reports.f.suspected", "疑似病例", "Suspected cases"),
    ("reports.f.cases_open", "其中：处置中", "of which open"),
    ("reports.f.cases_closed", "其中：已结案", "of which closed"),
    ("reports.f.alerts_raised", "预警次数", "Alerts raised"),
    (
        "reports.f.alerts_acknowledged",
        "已确认预警",
        "Alerts acknowledged",
    ),
    (
        "reports.f.ack_minutes_mean",
        "平均确认用时（分钟）",
        "Mean minutes to acknowledge",
    ),
    (
        "reports.f.ack_minutes_max",
        "最长确认用时（分钟）",
        "Longest minutes to acknowledge",
    ),
    (
        "reports.f.staff_expected",
        "应检测工作人员",
        "Staff on the roster",
    ),
    (
        "reports.f.staff_pre_shift",
        "上岗前已检测",
        "Checked before shift",
    ),
    (
        "reports.f.staff_post_shift",
        "下岗后已检测",
        "Checked after shift",
    ),
    (
        "reports.f.staff_checks_done",
        "已完成检测次数",
        "Checks done",
    ),
    (
        "reports.f.staff_checks_missing",
        "缺检次数",
        "Checks missing",
    ),
    ("reports.f.occupancy_peak", "场内最多人数", "Peak occupancy"),
    ("reports.f.occupancy_peak_at", "最多人数时间", "Peak at"),
    (
        "reports.cases.title",
        "疑似病例处置情况",
        "Suspected cases: where they stand",
    ),
    ("reports.cases.open", "尚无结论", "No outcome yet"),
    ("reports.cases.excluded", "已排除", "Excluded"),
    ("reports.cases.confirmed", "已确诊", "Confirmed"),
    ("reports.cases.unknown", "结论不明", "Outcome unknown"),
    (
        "reports.cases.upward_reports",
        "向上级报告次数",
        "Reports to the district",
    ),
    (
        "reports.chart.sites",
        "各单位排查人数",
        "People screened per site",
    ),
    (
        "reports.chart.screened",
        "每日排查人数（红色为有疑似病例的日子）",
        "People screened per day (red: days with suspected cases)",
    ),
    ("reports.trend7", "近7天趋势", "Last 7 days"),
    ("reports.trend30", "近30天趋势", "Last 30 days"),
    ("dashboard.title", "领导看板", "Leadership dashboard"),
    ("dashboard.today", "今日实时", "Today, live"),
    ("dashboard.inside", "当前场内", "Inside now"),
    (
        "dashboard.late",
        "迟报与未报日报",
        "Late and missing reports",
    ),
    (
        "dashboard.late_none",
        "今日没有迟报或未报的单位。",
        "No late or missing reports today.",
    ),
    (
        "reports.date.future",
        "不能报送未来日期的日报",
        "A report cannot be for a day to come",
    ),
    (
        "reports.date.invalid",
        "日期格式应为 YYYY-MM-DD",
        "The date must be YYYY-MM-DD",
    ),
    (
        "reports.days.invalid",
        "天数须在 1 到 90 之间",
        "Days must be 1 to 90",
    ),
    ("reports.text.required", "请填写审核意见", "Enter a comment"),
    (
        "reports.text.too_long",
        "内容不能超过 1000 字",
        "At most 1000 characters",
    ),
    (
        "reports.text.invalid",
        "内容含有不允许的控制字符",
        "The text contains control characters",
    ),
    (
        "problem.reports.unchanged",
        "数据和备注与已报送版本相同，无需重复报送",
        "The figures and remarks are the same as the version already submitted",
    ),
    (
        "problem.reports.not_submitted",
        "该日报尚未报送，不能确认或退回",
        "This report has not been submitted, so it cannot be acknowledged or returned",
    ),
    (
        "problem.reports.already_decided",
        "该版本已被确认或退回",
        "This version was acknowledged or returned already",
    ),
    (
        "problem.reports.not_a_child",
        "只能审核下级单位的日报",
        "You review only the reports of the sites below yours",
    ),
    (
        "problem.reports.conflict",
        "有人同时报送了该日报，请刷新后重试",
        "Someone submitted this report at the same time; reload and try again",
    ),
    (
        "dashboard.per_site",
        "各单位近7天排查人数",
        "People screened per site, last 7 days",
    ),
    ("dashboard.trend", "趋势", "Trend"),
    ("panel.report", "今日排查日报", "Today's daily report"),
    ("panel.report.open", "审核并报送", "Review and submit"),
    (
        "robot.title.report_returned",
        "排查日报被退回",
        "Daily report returned",
    ),
    (
        "robot.report_returned",
        "排查日报已被上级退回修改",
        "daily report returned by the site above",
    ),
    (
        "robot.report_returned_ask",
        "请查看审核意见，修改后重新报送。",
        "Read the comment, correct the report and submit it again.",
    ),
    (
        "reports.archive_truncated",
        "结果较多，只列出最近的 1000 份；请缩小日期范围。",
        "Many reports match; the latest 1000 are listed. Narrow the dates.",
    ),
    (
        "problem.reports.not_own_site",
        "只能报送本单位的日报；下级单位的日报由其自行报送，本级负责审核",
        "You submit only your own site's report; the sites below submit theirs and you review them",
    ),
    (
        "problem.reports.version_changed",
        "该单位已报送了新的版本，请刷新后审核最新版本",
        "The site has sent a newer version since; reload and review the latest",
    ),
    ("reports.hotline.title", "政务热线", "Government hotline"),
    ("reports.hotline.taken", "受理工单", "Tickets taken"),
    ("reports.hotline.urgent", "其中紧急", "Urgent"),
    (
        "reports.hotline.price_gouging",
        "哄抬物价举报",
        "Price gouging",
    ),
    (
        "reports.hotline.violation",
        "违规行为投诉",
        "Violation complaints",
    ),
    (
        "reports.hotline.epidemic_clue",
        "疫情线索提供",
        "Epidemic clues",
    ),
    (
        "reports.hotline.prevention_question",
        "防疫知识咨询",
        "Prevention questions",
    ),
    (
        "reports.hotline.hardship",
        "个人困难求助",
        "Requests for help",
    ),
    ("reports.hotline.other", "其他诉求", "Other"),
    (
        "hotline.hot.intro",
        "今日诉求中比自身近7至14日基线明显增多的词语和相似诉求群，可据此编写答复口径并发布。",
        "Words and groups of similar requests that stand well above their own 7–14-day baseline; write an answer for the knowledge base and for publication.",
    ),
    ("hotline.hot.terms", "热点词", "Hot terms"),
    ("hotline.hot.term", "词语", "Term"),
    ("hotline.hot.today", "当日", "Today"),
    ("hotline.hot.score", "突增程度", "Burst score"),
    ("hotline.hot.trend", "近15日", "Last 15 days"),
    (
        "hotline.hot.clusters",
        "相似诉求群",
        "Clusters of similar requests",
    ),
    ("hotline.hot.none", "没有突增的热点。", "Nothing bursts."),
    (
        "hotline.settings",
        "承办部门与知识库",
        "Departments and knowledge base",
    ),
    ("hotline.departments", "承办部门", "Departments"),
    ("hotline.department.code", "代码", "Code"),
    ("hotline.department.accounts", "承办账户", "Accounts"),
    ("hotline.department.link", "关联", "Link"),
    ("hotline.department.unlink", "取消关联", "Unlink"),
    ("hotline.department.add", "添加部门", "Add department"),
    ("hotline.answer.title", "标题", "Title"),
    ("hotline.answer.body", "答复口径", "Answer"),
    (
        "hotline.answer.published",
        "向公众发布",
        "Publish to citizens",
    ),
    ("hotline.answer.save", "保存", "Save"),
    ("hotline.answer.new", "新增答复口径", "New answer"),
    ("calendar.title", "工作日历", "Working calendar"),
    (
        "calendar.intro",
        "按国务院节假日安排（含调休上班日）计算工作日；管理员可调整单日。",
        "Working days follow the State Council's holiday notices, make-up working days included; administrators may change single days.",
    ),
    ("calendar.override", "调整单日", "Change one day"),
    ("calendar.workday", "是否上班", "Working?"),
    ("calendar.day_off", "休息", "Day off"),
    ("calendar.working", "上班", "Working day"),
    ("calendar.name", "名称", "Name"),
    (
        "calendar.remove",
        "取消调整，恢复国务院安排",
        "Remove the change",
    ),
    ("calendar.save", "保存", "Save"),
    ("hotline.summary.today", "今日汇总", "Today's summary"),
    ("nav.hotline", "热线工单", "Hotline"),
    ("role.department", "承办部门", "Department"),
    ("hotline.title", "政务热线工单", "Hotline tickets"),
    (
        "hotline.intro",
        "受理来电、转办部门、督办超期、回访办结；期限按工作日（含调休）计算。",
        "Take calls, transfer to departments, supervise overdue work, follow up and close; deadlines count working days (make-up days included).",
    ),
    ("hotline.intake", "受理登记", "Take a ticket"),
    ("hotline.take", "受理", "Take"),
    ("hotline.taken", "已受理，工单号", "Taken, ticket number"),
    ("hotline.search", "工单检索", "Search tickets"),
    (
        "hotline.search.words",
        "关键词或工单号",
        "Words or ticket number",
    ),
    ("hotline.search.go", "检索", "Search"),
    ("hotline.search.total", "匹配工单：", "Tickets found:"),
    (
        "hotline.supervision",
        "督办：超期与即将到期",
        "Supervision: overdue and due soon",
    ),
    (
        "hotline.supervision.empty",
        "没有超期或即将到期的工单。",
        "No ticket is overdue or due soon.",
    ),
    (
        "hotline.escalated",
        "已上报热线组组长",
        "Raised to the hotline group leader",
    ),
    ("hotline.hot", "今日热点", "Today's hot issues"),
    ("hotline.hot.baseline", "近14日日均", "14-day mean"),
    ("hotline.department", "承办部门", "Department"),
    ("hotline.lead", "主办", "Lead"),
    ("hotline.co", "协办", "Co-handling"),
    ("hotline.duplicates", "疑似重复工单", "Possible duplicates"),
    ("hotline.same_caller", "同一来电人", "Same caller"),
    ("hotline.merge_into", "并入", "Merge into"),
    ("hotline.merged", "已并入本工单", "Merged into this ticket"),
    ("hotline.answer", "直接答复", "Answer directly"),
    ("hotline.transfer", "转办", "Transfer"),
    ("hotline.reply", "部门答复", "Department reply"),
    ("hotline.accept", "审核通过", "Accept"),
    ("hotline.return", "退回重办", "Return for rework"),
    ("hotline.follow_up", "回访", "Follow up"),
    ("hotline.close", "办结", "Close"),
    ("hotline.reopen", "重新打开", "Reopen"),
    ("hotline.supervise", "督办", "Supervise"),
    ("hotline.timeline", "办理过程", "Timeline"),
    ("hotline.answers", "防疫知识问答", "Prevention answers"),
    ("hotline.field.channel", "来源渠道", "Channel"),
    ("hotline.field.category", "诉求类别", "Category"),
    ("hotline.field.content", "诉求内容", "Content"),
    ("hotline.field.caller_name", "来电人姓名", "Caller's name"),
    ("hotline.field.caller_phone", "联系电话", "Caller's phone"),
    ("hotline.field.place", "发生地点", "Place"),
    ("hotline.field.urgent", "紧急", "Urgent"),
    ("hotline.field.status", "状态", "Status"),
    ("hotline.field.number", "工单号", "Number"),
    ("hotline.field.due", "办理期限", "Due"),
    ("hotline.field.standing", "期限状态", "Standing"),
    ("hotline.field.created", "受理时间", "Taken at"),
    ("hotline.field.note", "说明", "Note"),
    ("hotline.field.reason", "原因", "Reason"),
    ("hotline.field.satisfaction", "满意度", "Satisfaction"),
    (
        "hotline.field.workdays",
        "办理时限（工作日，留空按类别默认）",
        "Working days (empty: the category's default)",
    ),
    ("hotline.public.title", "网上反映", "Report to the hotline"),
    (
        "hotline.public.intro",
        "反映哄抬物价、违规行为、疫情线索，咨询防疫知识或求助。我们会在工作日内转交承办部门办理。",
        "Report price gouging, violations or epidemic clues, ask about prevention, or ask for help. We pass it to the responsible department on working days.",
    ),
    (
        "hotline.public.privacy",
        "个人信息说明：姓名和电话仅用于办理和回访本诉求，由区政务服务中心热线舆情组处理，加密保存，办结后按规定期限删除；可以匿名反映。",
        "Privacy: your name and phone are used only to handle and follow up this request, by the district service centre's hotline group; they are stored encrypted and deleted after the retention period. You may stay anonymous.",
    ),
    ("hotline.public.send", "提交", "Send"),
    (
        "hotline.public.thanks",
        "已收到，请记下您的工单号：",
        "Received. Your ticket number:",
    ),
    (
        "hotline.summary.title",
        "政务热线工单日汇总",
        "Daily hotline summary",
    ),
    ("hotline.summary.date", "日期", "Date"),
    (
        "hotline.summary.xlsx",
        "下载日汇总（Excel）",
        "Daily summary (Excel)",
    ),
    ("hotline.summary.totals", "总体", "Totals"),
    ("hotline.summary.total", "受理工单", "Tickets taken"),
    ("hotline.summary.urgent", "其中紧急", "Urgent"),
    ("hotline.summary.overdue_now", "当前超期", "Overdue now"),
    ("hotline.summary.by_category", "按类别", "By category"),
    ("hotline.summary.by_channel", "按渠道", "By channel"),
    ("hotline.summary.satisfaction", "回访满意度", "Satisfaction"),
    ("hotline.summary.hot", "热点词", "Hot terms"),
    ("hotline.summary.departments", "按承办部门", "By department"),
    ("hotline.summary.received", "今日转办", "Received today"),
    ("hotline.summary.open", "在办", "Open"),
    ("hotline.summary.overdue", "超期", "Overdue"),
    (
        "hotline.category.price_gouging",
        "哄抬物价举报",
        "Price gouging",
    ),
    (
        "hotline.category.violation",
        "违规行为投诉",
        "Violation complaint",
    ),
    (
        "hotline.category.epidemic_clue",
        "疫情线索提供",
        "Epidemic clue",
    ),
    (
        "hotline.category.prevention_question",
        "防疫知识咨询",
        "Prevention question",
    ),
    (
        "hotline.category.hardship",
        "个人困难求助",
        "Request for help",
    ),
    ("hotline.category.other", "其他", "Other"),
    ("hotline.channel.phone", "电话", "Phone"),
    ("hotline.channel.wechat", "微信", "WeChat"),
    ("hotline.channel.web", "网上", "Web form"),
    ("hotline.channel.walk_in", "现场", "Walk-in"),
    ("hotline.status.new", "已受理", "Taken"),
    ("hotline.status.answered", "已答复", "Answered"),
    ("hotline.status.transferred", "已转办", "Transferred"),
    ("hotline.status.replied", "待审核", "Replied, to review"),
    ("hotline.status.returned", "退回重办", "Returned for rework"),
    (
        "hotline.status.accepted",
        "待回访",
        "Accepted, to follow up",
    ),
    ("hotline.status.followed_up", "已回访", "Followed up"),
    ("hotline.status.closed", "已办结", "Closed"),
    ("hotline.status.merged", "已并案", "Merged"),
    ("hotline.satisfaction.satisfied", "满意", "Satisfied"),
    ("hotline.satisfaction.basic", "基本满意", "Fairly satisfied"),
    ("hotline.satisfaction.unsatisfied", "不满意", "Unsatisfied"),
    ("hotline.standing.on_time", "正常", "On time"),
    ("hotline.standing.near_due", "即将到期", "Due soon"),
    ("hotline.standing.overdue", "已超期", "Overdue"),
    ("hotline.event.created", "受理", "Taken"),
    ("hotline.event.answered", "直接答复", "Answered"),
    ("hotline.event.transferred", "转办", "Transferred"),
    ("hotline.event.replied", "部门答复", "Department replied"),
    ("hotline.event.co_replied", "协办意见", "Co-handler's reply"),
    ("hotline.event.accepted", "审核通过", "Accepted"),
    ("hotline.event.returned", "退回重办", "Returned"),
    ("hotline.event.followed_up", "回访", "Followed up"),
    ("hotline.event.closed", "办结", "Closed"),
    ("hotline.event.reopened", "重新打开", "Reopened"),
    ("hotline.event.absorbed", "并入工单", "Ticket merged in"),
    ("hotline.event.merged", "并入", "Merged into"),
    ("hotline.event.supervised", "督办", "Supervised"),
    (
        "hotline.event.escalated",
        "超期上报组长",
        "Overdue, raised to the leader",
    ),
    (
        "hotline.channel.invalid",
        "请选择来源渠道",
        "Choose a channel",
    ),
    (
        "hotline.category.invalid",
        "请选择诉求类别",
        "Choose a category",
    ),
    ("hotline.status.invalid", "未知的状态", "Unknown status"),
    ("hotline.text.required", "请填写内容", "Enter the text"),
    (
        "hotline.text.too_long",
        "内容过长（最多2000字）",
        "Too long (at most 2000 characters)",
    ),
    (
        "hotline.text.invalid",
        "内容含有不允许的字符",
        "The text holds characters that are not allowed",
    ),
    (
        "hotline.term.invalid",
        "时限为1至30个工作日，或1至48个工作小时",
        "A term is 1 to 30 working days or 1 to 48 working hours",
    ),
    (
        "hotline.term.both",
        "工作日和小时只能填一项",
        "Give working days or hours, not both",
    ),
    (
        "hotline.department.code.invalid",
        "部门代码为大写字母、数字和连字符",
        "A department code is capital letters, digits and hyphens",
    ),
    (
        "hotline.department.code.taken",
        "该部门代码已存在",
        "This department code is taken",
    ),
    (
        "hotline.department.unknown",
        "没有这个承办部门",
        "No such department",
    ),
    (
        "hotline.department.account",
        "没有这个承办部门账户",
        "No such department account",
    ),
    (
        "hotline.review.required",
        "请选择通过或退回",
        "Accept or return",
    ),
    (
        "hotline.satisfaction.invalid",
        "请选择满意度",
        "Choose the caller's rating",
    ),
    (
        "hotline.merge.unknown",
        "没有要并入的工单",
        "No such ticket to merge into",
    ),
    (
        "hotline.date.invalid",
        "日期格式应为 年-月-日",
        "A date is YYYY-MM-DD",
    ),
    (
        "calendar.no_data",
        "工作日历没有该年份的数据（只有2019至2026年国务院节假日安排），无法计算",
        "The working calendar has no data for that year (only the State Council notices of 2019 to 2026)",
    ),
    (
        "calendar.name.invalid",
        "请填写1至40字的名称",
        "Give a name of 1 to 40 characters",
    ),
    (
        "calendar.hours.invalid",
        "办公时间格式如 08:30-12:00,14:30-17:30",
        "Business hours look like 08:30-12:00,14:30-17:30",
    ),
    (
        "calendar.workdays.invalid",
        "工作日数为0至366",
        "Working days are 0 to 366",
    ),
    (
        "problem.calendar.no_data",
        "工作日历没有该年份的数据（只有2019至2026年国务院节假日安排），不做推算",
        "The working calendar has no data for that year (only the State Council notices of 2019 to 2026); nothing is guessed",
    ),
    (
        "problem.hotline.wrong_status",
        "工单当前状态不允许此操作（例如已办结的工单不能再答复）",
        "The ticket's status does not allow this (a closed ticket takes no reply)",
    ),
    (
        "problem.hotline.version_changed",
        "工单已被他人更新，请刷新后再操作",
        "Someone changed the ticket since; reload and try again",
    ),
    (
        "problem.hotline.cannot_merge",
        "不能并入：工单相同、已办结或已并案",
        "Cannot merge: the same ticket, or one closed or merged already",
    ),
    (
        "problem.hotline.not_assigned",
        "该工单未转给您的部门",
        "This ticket was not sent to your department",
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

    /// Every file under `dir`, folders included.
    fn files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                out.extend(files(&path));
            } else {
                out.push(path);
            }
        }
        out
    }

    #[test]
    fn every_stored_name_shown_has_words() {
        for key in crate::cases_pages::label_keys()
            .into_iter()
            .chain(crate::reports_pages::label_keys())
            .chain(crate::hotline_pages::label_keys())
        {
            assert!(CATALOG.contains_key(key.as_str()), "missing message {key}");
        }
    }

    /// Keys made at run time: every code a `FieldError` or `ApiError` is built with in the
    /// domain, store and web crates, every problem a bare status becomes, every site kind.
    #[test]
    fn every_error_code_and_kind_has_words() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut keys: Vec<String> = Vec::new();
        for dir in ["domain/src", "store/src", "web/src"] {
            for path in files(&root.join(dir)) {
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
            for path in files(&root) {
                sources.push(std::fs::read_to_string(path).unwrap());
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
