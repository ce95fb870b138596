//! Loads the demo district into an empty store: sites, checkpoints, resident units and
//! windows, people (fictitious), the leadership group and working groups, and one account
//! per role.

use crate::privacy::Vault;
use crate::{Backend, Result, Store, accounts, org, params};
use fangkong_domain::access::Role;
use fangkong_domain::clock::{Clock, IdSource};
use fangkong_domain::demo;
use fangkong_domain::org::{Name, NewCheckpoint, PersonKind, SiteCode};

/// Fixed key of the advisory lock that serialises demo loading on PostgreSQL.
const DEMO_LOCK: i64 = 0x0066_6b64_656d;

/// Departments of the demo district's hotline: (code, name).
const DEPARTMENTS: &[(&str, &str)] = &[
    ("SCJG", "区市场监督管理局"),
    ("WJJ", "区卫生健康局"),
    ("GAJ", "区公安分局"),
    ("MZJ", "区民政局"),
    ("QXJD", "曲溪街道办事处"),
];

/// A demo account, with the password to print once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoAccount {
    pub username: String,
    pub role: Role,
    pub site: String,
    pub password: String,
}

/// Fills an empty store with the demo district in one transaction. Returns the demo
/// accounts, or `None` (changing nothing) when the store already holds sites.
pub async fn seed(
    store: &Store,
    vault: &Vault,
    clock: &dyn Clock,
    ids: &dyn IdSource,
) -> Result<Option<Vec<DemoAccount>>> {
    // Hash the passwords first: argon2 is slow, and the transaction should be short.
    let accounts = tokio::task::spawn_blocking(|| {
        Role::assignable()
            .map(|role| {
                let password = accounts::new_secret::<10>();
                let hash = accounts::hash_password(&password)?;
                Ok((
                    DemoAccount {
                        username: role.as_str().replace('_', "-"),
                        role,
                        site: "JD".to_owned(),
                        password,
                    },
                    hash,
                ))
            })
            .collect::<Result<Vec<_>>>()
    })
    .await
    .map_err(|e| crate::StoreError::Database(format!("hashing task failed: {e}")))??;

    let mut tx = store.begin().await?;
    if tx.backend() == Backend::Postgres {
        // Several processes started with --demo at once: one loads, the others see it.
        tx.query(
            "SELECT pg_advisory_xact_lock($1)::TEXT",
            &params![DEMO_LOCK],
        )
        .await?;
    }
    let existing: i64 = tx
        .query_one("SELECT COUNT(*) FROM sites", &[])
        .await?
        .get(0)?;
    if existing > 0 {
        return Ok(None);
    }
    let now = clock.now();
    let mut root = None;
    let mut window_clerk = None;
    for (index, entry) in demo::district().iter().enumerate() {
        let site = org::insert_site(&mut tx, ids.new_id(), &entry.site, now).await?;
        root.get_or_insert(site.id);
        let mut unit_ids = Vec::new();
        for unit in &entry.units {
            unit_ids.push((
                unit.code.clone(),
                org::insert_unit(&mut tx, ids, site.id, unit, now).await?,
            ));
        }
        let gate = if index == 0 {
            "正门（南门）"
        } else {
            "正门"
        };
        let checkpoint = NewCheckpoint {
            code: SiteCode::parse("MAIN").map_err(crate::StoreError::Invalid)?,
            name: Name::parse(gate, "name").map_err(crate::StoreError::Invalid)?,
            is_main: true,
        };
        org::insert_checkpoint(&mut tx, ids.new_id(), site.id, &checkpoint, now).await?;
        org::ensure_groups(&mut tx, ids, site.id, now).await?;
        for person in demo::people(entry, index) {
            let id = ids.new_id();
            let unit = person
                .unit
                .as_ref()
                .and_then(|c| unit_ids.iter().find(|(code, _)| code == c))
                .map(|(_, id)| *id);
            let new = org::NewPerson {
                site: site.id,
                unit,
                kind: person.kind,
                job: person.job.to_owned(),
                name: person.name,
                phone: Some(person.phone),
                id_number: Some(person.id_number),
            };
            org::insert_person(&mut tx, vault, id, &new, now).await?;
            // The demo window account belongs to the hall's first window clerk, so its
            // own staff checks work out of the box.
            if index == 0
                && window_clerk.is_none()
                && unit.is_some()
                && person.kind == PersonKind::Staff
            {
                window_clerk = Some(id);
            }
            for (group, position) in person.groups {
                org::set_member(&mut tx, site.id, group, id, position).await?;
            }
        }
    }
    let root = root.ok_or(crate::StoreError::NotFound)?;
    let mut out = Vec::new();
    let mut department_user = None;
    for (account, hash) in accounts {
        let user = ids.new_id();
        accounts::insert_user(
            &mut tx,
            &accounts::NewUser {
                id: user,
                username: &account.username,
                role: account.role,
                site_id: root,
                password_hash: &hash,
                must_change: false,
            },
            now,
        )
        .await?;
        if account.role == Role::Window {
            accounts::link_person(&mut tx, user, window_clerk).await?;
        }
        if account.role == Role::Department {
            department_user = Some(user);
        }
        out.push(account);
    }
    // The departments the district's hotline transfers to; the demo department account
    // answers for the market regulator.
    for (n, (code, name)) in DEPARTMENTS.iter().enumerate() {
        let id = ids.new_id();
        crate::hotline::insert_department(&mut tx, id, root, code, name, now).await?;
        if let (0, Some(user)) = (n, department_user) {
            crate::hotline::link_department_user(&mut tx, user, id, true).await?;
        }
    }
    crate::audit::append(
        &mut tx,
        now,
        &crate::audit::Record {
            actor: "demo",
            addr: "local",
            action: "demo.load",
            target: "site:JD".to_owned(),
            site: "JD",
            outcome: fangkong_domain::audit::Outcome::Ok,
            detail: serde_json::json!({"accounts": out.len()}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Some(out))
}
