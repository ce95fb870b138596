//! Sites, checkpoints, resident units and windows, people, and the working groups.
//!
//! People's personal fields pass through the [`Vault`]: stored encrypted with a lookup
//! hash, returned masked unless a caller asks to reveal one field (and audits it).

use crate::privacy::Vault;
use crate::{Result, Row, Store, StoreError, Tx, params};
use fangkong_domain::FieldError;
use fangkong_domain::clock::IdSource;
use fangkong_domain::org::{
    GroupKind, NewCheckpoint, NewSite, NewUnit, PersonKind, Position, SiteKind, check_placement,
};
use fangkong_domain::privacy::{
    IdNumber, PersonName, Phone, mask_id_number, mask_name, mask_phone,
};
use time::OffsetDateTime;
use uuid::Uuid;

/// A stored site.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Site {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub kind: SiteKind,
    pub parent: Option<String>,
    pub address: String,
    pub capacity: u32,
    pub opening_hours: String,
    /// Temperature threshold in tenths of a degree Celsius.
    pub threshold: u32,
}

const SELECT_SITE: &str = "SELECT s.id, s.code, s.name, s.kind, p.code, s.address, s.capacity, s.opening_hours, s.threshold";
const FROM_SITES: &str = "FROM sites s LEFT JOIN sites p ON p.id = s.parent_id";

fn site_from(row: &Row) -> Result<Site> {
    let kind: String = row.get(3)?;
    Ok(Site {
        id: row.get(0)?,
        code: row.get(1)?,
        name: row.get(2)?,
        kind: SiteKind::parse(&kind)
            .map_err(|_| StoreError::Decode(format!("site kind {kind}")))?,
        parent: row.get(4)?,
        address: row.get(5)?,
        capacity: row.get(6)?,
        opening_hours: row.get(7)?,
        threshold: row.get(8)?,
    })
}

/// A site with its depth in the tree (0 at the root).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteInTree {
    pub site: Site,
    pub depth: u32,
}

/// Every site in tree order: each parent directly followed by its subtree, children by
/// code.
pub async fn list_sites(store: &Store) -> Result<Vec<SiteInTree>> {
    let rows = store
        .query(
            &format!(
                "WITH RECURSIVE tree (id, depth, path) AS (
                    SELECT id, 0, code FROM sites WHERE parent_id IS NULL
                    UNION ALL
                    SELECT c.id, t.depth + 1, t.path || '/' || c.code
                    FROM sites c JOIN tree t ON c.parent_id = t.id
                 )
                 {SELECT_SITE}, tree.depth {FROM_SITES}
                 JOIN tree ON tree.id = s.id ORDER BY tree.path"
            ),
            &[],
        )
        .await?;
    let all = rows
        .iter()
        .map(|r| {
            Ok(SiteInTree {
                site: site_from(r)?,
                depth: r.get(9)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(tree_order(all))
}

/// Orders sites depth first from the roots, children by code, so each parent is directly
/// followed by its whole subtree. (Sorting the paths as text is not enough: a code may
/// hold `-`, which sorts before the `/` between codes, and collations differ.)
fn tree_order(mut all: Vec<SiteInTree>) -> Vec<SiteInTree> {
    all.sort_by(|a, b| a.site.code.cmp(&b.site.code));
    let mut children: std::collections::HashMap<Option<&str>, Vec<usize>> = Default::default();
    for (i, s) in all.iter().enumerate() {
        children
            .entry(s.site.parent.as_deref())
            .or_default()
            .push(i);
    }
    let mut order = Vec::with_capacity(all.len());
    let mut stack: Vec<usize> = children.get(&None).cloned().unwrap_or_default();
    stack.reverse();
    while let Some(i) = stack.pop() {
        order.push(i);
        if let Some(kids) = children.get(&Some(all[i].site.code.as_str())) {
            stack.extend(kids.iter().rev());
        }
    }
    let mut slots: Vec<Option<SiteInTree>> = all.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}

const SITE_BY_CODE: &str = "SELECT s.id, s.code, s.name, s.kind, p.code, s.address, s.capacity, s.opening_hours, s.threshold
    FROM sites s LEFT JOIN sites p ON p.id = s.parent_id WHERE s.code = $1";

pub async fn find_site(store: &Store, code: &str) -> Result<Option<Site>> {
    store
        .query_opt(SITE_BY_CODE, &params![code])
        .await?
        .as_ref()
        .map(site_from)
        .transpose()
}

pub async fn find_site_by_id(store: &Store, id: Uuid) -> Result<Option<Site>> {
    store
        .query_opt(
            &format!("{SELECT_SITE} {FROM_SITES} WHERE s.id = $1"),
            &params![id],
        )
        .await?
        .as_ref()
        .map(site_from)
        .transpose()
}

async fn find_site_in(tx: &mut Tx, code: &str) -> Result<Option<Site>> {
    tx.query_opt(SITE_BY_CODE, &params![code])
        .await?
        .as_ref()
        .map(site_from)
        .transpose()
}

/// Adds a site under its parent, checking the plan's hierarchy and the code's uniqueness.
pub async fn insert_site(
    tx: &mut Tx,
    id: Uuid,
    site: &NewSite,
    now: OffsetDateTime,
) -> Result<Site> {
    let parent =
        match &site.parent {
            Some(code) => Some(find_site_in(tx, code.as_str()).await?.ok_or(
                StoreError::Invalid(FieldError::new("parent", "site.parent.unknown")),
            )?),
            None => None,
        };
    check_placement(site.kind, parent.as_ref().map(|p| p.kind)).map_err(StoreError::Invalid)?;
    tx.execute(
        "INSERT INTO sites (id, code, name, kind, parent_id, address, capacity, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &params![
            id,
            site.code.as_str(),
            site.name.as_str(),
            site.kind.as_str(),
            parent.as_ref().map(|p| p.id),
            site.address.as_str(),
            site.capacity,
            now
        ],
    )
    .await
    .map_err(|e| match e {
        StoreError::Unique { .. } => {
            StoreError::Invalid(FieldError::new("code", "site.code.taken"))
        }
        other => other,
    })?;
    Ok(Site {
        id,
        code: site.code.as_str().to_owned(),
        name: site.name.as_str().to_owned(),
        kind: site.kind,
        parent: parent.map(|p| p.code),
        address: site.address.clone(),
        capacity: site.capacity,
        opening_hours: fangkong_domain::org::DEFAULT_OPENING_HOURS.to_owned(),
        threshold: u32::from(fangkong_domain::org::DEFAULT_THRESHOLD),
    })
}

/// Adds a resident unit and its windows to a site.
pub async fn insert_unit(
    tx: &mut Tx,
    ids: &dyn IdSource,
    site_id: Uuid,
    unit: &NewUnit,
    now: OffsetDateTime,
) -> Result<Uuid> {
    let unit_id = ids.new_id();
    let code_taken = tx
        .query_opt(
            "SELECT 1 FROM units WHERE site_id = $1 AND code = $2",
            &params![site_id, unit.code.as_str()],
        )
        .await?
        .is_some();
    if code_taken {
        return Err(StoreError::Invalid(FieldError::new(
            "unit_code",
            "unit.code.taken",
        )));
    }
    for &number in &unit.windows {
        let window_taken = tx
            .query_opt(
                "SELECT 1 FROM windows WHERE site_id = $1 AND number = $2",
                &params![site_id, number],
            )
            .await?
            .is_some();
        if window_taken {
            return Err(StoreError::Invalid(FieldError::new(
                "windows",
                "unit.windows.taken",
            )));
        }
    }
    tx.execute(
        "INSERT INTO units (id, site_id, code, name, is_bureau, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        &params![unit_id, site_id, unit.code.as_str(), unit.name.as_str(), unit.is_bureau, now],
    )
    .await?;
    for &number in &unit.windows {
        tx.execute(
            "INSERT INTO windows (id, site_id, unit_id, number) VALUES ($1, $2, $3, $4)",
            &params![ids.new_id(), site_id, unit_id, number],
        )
        .await?;
    }
    Ok(unit_id)
}

/// Figures of one site's hall: resident units and windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct HallSize {
    pub units: u32,
    pub windows: u32,
}

pub async fn hall_size(store: &Store, site_id: Uuid) -> Result<HallSize> {
    let row = store
        .query_one(
            "SELECT (SELECT COUNT(*) FROM units WHERE site_id = $1), (SELECT COUNT(*) FROM windows WHERE site_id = $1)",
            &params![site_id],
        )
        .await?;
    Ok(HallSize {
        units: row.get(0)?,
        windows: row.get(1)?,
    })
}

/// The ids and codes of `root` and every site below it, in one query.
pub async fn subtree_sites(store: &Store, root: Uuid) -> Result<Vec<(Uuid, String)>> {
    store
        .query(
            "WITH RECURSIVE tree (id, code) AS (
                SELECT id, code FROM sites WHERE id = $1
                UNION ALL
                SELECT c.id, c.code FROM sites c JOIN tree t ON c.parent_id = t.id
             ) SELECT id, code FROM tree",
            &params![root],
        )
        .await?
        .iter()
        .map(|r| Ok((r.get(0)?, r.get(1)?)))
        .collect()
}

/// The ids of `root` and every site below it.
pub async fn subtree(store: &Store, root: Uuid) -> Result<Vec<Uuid>> {
    Ok(subtree_sites(store, root)
        .await?
        .into_iter()
        .map(|(id, _)| id)
        .collect())
}

/// A site's editable details, already validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteDetails {
    pub name: String,
    pub address: String,
    pub capacity: u32,
    pub opening_hours: String,
    pub threshold: u32,
}

/// Changes a site's details.
pub async fn update_site(tx: &mut Tx, id: Uuid, d: &SiteDetails) -> Result<()> {
    let n = tx
        .execute(
            "UPDATE sites SET name = $2, address = $3, capacity = $4, opening_hours = $5, threshold = $6 WHERE id = $1",
            &params![id, d.name.as_str(), d.address.as_str(), d.capacity, d.opening_hours.as_str(), d.threshold],
        )
        .await?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

// ---- checkpoints -----------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Checkpoint {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub is_main: bool,
}

pub async fn checkpoints(store: &Store, site: Uuid) -> Result<Vec<Checkpoint>> {
    store
        .query(
            "SELECT id, code, name, is_main FROM checkpoints WHERE site_id = $1 ORDER BY is_main DESC, code",
            &params![site],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(Checkpoint {
                id: r.get(0)?,
                code: r.get(1)?,
                name: r.get(2)?,
                is_main: r.get(3)?,
            })
        })
        .collect()
}

/// Adds a checkpoint; a new main entrance takes the mark from the old one.
pub async fn insert_checkpoint(
    tx: &mut Tx,
    id: Uuid,
    site: Uuid,
    cp: &NewCheckpoint,
    now: OffsetDateTime,
) -> Result<()> {
    let taken = tx
        .query_opt(
            "SELECT 1 FROM checkpoints WHERE site_id = $1 AND code = $2",
            &params![site, cp.code.as_str()],
        )
        .await?
        .is_some();
    if taken {
        return Err(StoreError::Invalid(FieldError::new(
            "code",
            "checkpoint.code.taken",
        )));
    }
    if cp.is_main {
        tx.execute(
            "UPDATE checkpoints SET is_main = $2 WHERE site_id = $1",
            &params![site, false],
        )
        .await?;
    }
    tx.execute(
        "INSERT INTO checkpoints (id, site_id, code, name, is_main, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        &params![id, site, cp.code.as_str(), cp.name.as_str(), cp.is_main, now],
    )
    .await?;
    Ok(())
}

// ---- units -----------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Unit {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub is_bureau: bool,
    pub windows: Vec<u32>,
}

pub async fn units(store: &Store, site: Uuid) -> Result<Vec<Unit>> {
    let mut units: Vec<Unit> = store
        .query(
            "SELECT id, code, name, is_bureau FROM units WHERE site_id = $1 ORDER BY is_bureau DESC, code",
            &params![site],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(Unit {
                id: r.get(0)?,
                code: r.get(1)?,
                name: r.get(2)?,
                is_bureau: r.get(3)?,
                windows: Vec::new(),
            })
        })
        .collect::<Result<_>>()?;
    for r in store
        .query(
            "SELECT unit_id, number FROM windows WHERE site_id = $1 ORDER BY number",
            &params![site],
        )
        .await?
    {
        let unit: Uuid = r.get(0)?;
        if let Some(u) = units.iter_mut().find(|u| u.id == unit) {
            u.windows.push(r.get(1)?);
        }
    }
    Ok(units)
}

// ---- people ----------------------------------------------------------------------------

/// A person to add, already validated.
#[derive(Debug, Clone)]
pub struct NewPerson {
    pub site: Uuid,
    pub unit: Option<Uuid>,
    pub kind: PersonKind,
    pub job: String,
    pub name: PersonName,
    pub phone: Option<Phone>,
    pub id_number: Option<IdNumber>,
}

/// Field labels bound into ciphertexts and lookup hashes.
pub const NAME: &str = "people.name";
pub const PHONE: &str = "people.phone";
pub const ID_NUMBER: &str = "people.id_number";

/// The lookup hash of a phone number (to find a person by it).
pub fn phone_lookup(vault: &Vault, phone: &Phone) -> Vec<u8> {
    vault.lookup(PHONE, phone.as_str())
}

pub async fn insert_person(
    tx: &mut Tx,
    vault: &Vault,
    id: Uuid,
    p: &NewPerson,
    now: OffsetDateTime,
) -> Result<()> {
    tx.execute(
        "INSERT INTO people (id, site_id, unit_id, kind, job, name_enc, phone_enc, phone_mac, id_number_enc, id_number_mac, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
        &params![
            id,
            p.site,
            p.unit,
            p.kind.as_str(),
            p.job.as_str(),
            vault.seal(NAME, id, p.name.as_str()),
            p.phone.as_ref().map(|x| vault.seal(PHONE, id, x.as_str())),
            p.phone.as_ref().map(|x| phone_lookup(vault, x)),
            p.id_number.as_ref().map(|x| vault.seal(ID_NUMBER, id, x.as_str())),
            p.id_number.as_ref().map(|x| vault.lookup(ID_NUMBER, x.as_str())),
            now
        ],
    )
    .await
    .map_err(|e| match e {
        StoreError::Unique { .. } => {
            StoreError::Invalid(FieldError::new("id_number", "person.id_number.taken"))
        }
        other => other,
    })?;
    Ok(())
}

/// A person with personal fields masked.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Person {
    pub id: Uuid,
    pub site_id: Uuid,
    pub site_code: String,
    pub unit: Option<String>,
    pub kind: PersonKind,
    pub job: String,
    pub name: String,
    pub phone: Option<String>,
    pub id_number: Option<String>,
}

const PERSON: &str = "SELECT p.id, p.site_id, s.code, u.name, p.kind, p.job, p.name_enc, p.phone_enc, p.id_number_enc
    FROM people p JOIN sites s ON s.id = p.site_id LEFT JOIN units u ON u.id = p.unit_id";

fn person_from(vault: &Vault, row: &Row) -> Result<Person> {
    let id: Uuid = row.get(0)?;
    let kind: String = row.get(4)?;
    let open = |i: usize, field: &str| -> Result<Option<String>> {
        let sealed: Option<Vec<u8>> = row.get(i)?;
        sealed.map(|b| vault.open(field, id, &b)).transpose()
    };
    Ok(Person {
        id,
        site_id: row.get(1)?,
        site_code: row.get(2)?,
        unit: row.get(3)?,
        kind: PersonKind::parse(&kind)
            .map_err(|_| StoreError::Decode(format!("person kind {kind}")))?,
        job: row.get(5)?,
        name: mask_name(&open(6, NAME)?.unwrap_or_default()),
        phone: open(7, PHONE)?.map(|p| mask_phone(&p)),
        id_number: open(8, ID_NUMBER)?.map(|n| mask_id_number(&n)),
    })
}

/// People of one site, masked, in the order they were added.
pub async fn people(store: &Store, vault: &Vault, site: Uuid) -> Result<Vec<Person>> {
    store
        .query(
            &format!("{PERSON} WHERE p.site_id = $1 ORDER BY p.id"),
            &params![site],
        )
        .await?
        .iter()
        .map(|r| person_from(vault, r))
        .collect()
}

/// Removes a person and their group memberships: personal data of someone who has left
/// is not kept (PIPL art. 47). `NotFound` when there is no such person.
pub async fn remove_person(tx: &mut Tx, id: Uuid) -> Result<()> {
    tx.execute(
        "DELETE FROM group_members WHERE person_id = $1",
        &params![id],
    )
    .await?;
    // Their account stays (an administrator decides about it) but no longer names them;
    // their door records stay as anonymous staff checks, so the day's counts hold.
    tx.execute(
        "UPDATE users SET person_id = NULL WHERE person_id = $1",
        &params![id],
    )
    .await?;
    tx.execute(
        "UPDATE screenings SET person_id = NULL WHERE person_id = $1",
        &params![id],
    )
    .await?;
    let n = tx
        .execute("DELETE FROM people WHERE id = $1", &params![id])
        .await?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub async fn find_person(store: &Store, vault: &Vault, id: Uuid) -> Result<Option<Person>> {
    store
        .query_opt(&format!("{PERSON} WHERE p.id = $1"), &params![id])
        .await?
        .as_ref()
        .map(|r| person_from(vault, r))
        .transpose()
}

/// A personal field that can be revealed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonalField {
    Name,
    Phone,
    IdNumber,
}

impl PersonalField {
    pub const ALL: [PersonalField; 3] = [
        PersonalField::Name,
        PersonalField::Phone,
        PersonalField::IdNumber,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            PersonalField::Name => "name",
            PersonalField::Phone => "phone",
            PersonalField::IdNumber => "id_number",
        }
    }

    pub fn parse(s: &str) -> Option<PersonalField> {
        PersonalField::ALL.into_iter().find(|f| f.as_str() == s)
    }
}

/// The plain value of one personal field (`None` when the person has none). Callers
/// check permission and write the audit entry.
pub async fn reveal(
    store: &Store,
    vault: &Vault,
    id: Uuid,
    field: PersonalField,
) -> Result<Option<String>> {
    let (column, label) = match field {
        PersonalField::Name => ("name_enc", NAME),
        PersonalField::Phone => ("phone_enc", PHONE),
        PersonalField::IdNumber => ("id_number_enc", ID_NUMBER),
    };
    let row = store
        .query_one(
            &format!("SELECT {column} FROM people WHERE id = $1"),
            &params![id],
        )
        .await?;
    let sealed: Option<Vec<u8>> = row.get(0)?;
    sealed.map(|b| vault.open(label, id, &b)).transpose()
}

/// People whose phone number is `phone` (exact match through the lookup hash).
pub async fn people_by_phone(store: &Store, vault: &Vault, phone: &Phone) -> Result<Vec<Person>> {
    store
        .query(
            &format!("{PERSON} WHERE p.phone_mac = $1 ORDER BY p.id"),
            &params![phone_lookup(vault, phone)],
        )
        .await?
        .iter()
        .map(|r| person_from(vault, r))
        .collect()
}

// ---- working groups --------------------------------------------------------------------

/// A group member as shown (name masked).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Member {
    pub person: Uuid,
    pub name: String,
    pub position: Position,
}

/// The leadership group or a working group of one site.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Group {
    pub id: Uuid,
    pub kind: GroupKind,
    pub duties: String,
    pub members: Vec<Member>,
}

/// Creates the six groups of a site with the plan's duties, where missing.
pub async fn ensure_groups(
    tx: &mut Tx,
    ids: &dyn IdSource,
    site: Uuid,
    now: OffsetDateTime,
) -> Result<()> {
    for kind in GroupKind::ALL {
        let exists = tx
            .query_opt(
                "SELECT 1 FROM org_groups WHERE site_id = $1 AND kind = $2",
                &params![site, kind.as_str()],
            )
            .await?
            .is_some();
        if !exists {
            tx.execute(
                "INSERT INTO org_groups (id, site_id, kind, duties, updated_at) VALUES ($1, $2, $3, $4, $5)",
                &params![ids.new_id(), site, kind.as_str(), kind.default_duties(), now],
            )
            .await?;
        }
    }
    Ok(())
}

/// A site's groups in the plan's order, members by position.
pub async fn groups(store: &Store, vault: &Vault, site: Uuid) -> Result<Vec<Group>> {
    let mut groups: Vec<Group> = store
        .query(
            "SELECT id, kind, duties FROM org_groups WHERE site_id = $1",
            &params![site],
        )
        .await?
        .iter()
        .map(|r| {
            let kind: String = r.get(1)?;
            Ok(Group {
                id: r.get(0)?,
                kind: GroupKind::parse(&kind)
                    .map_err(|_| StoreError::Decode(format!("group kind {kind}")))?,
                duties: r.get(2)?,
                members: Vec::new(),
            })
        })
        .collect::<Result<_>>()?;
    groups.sort_by_key(|g| GroupKind::ALL.iter().position(|k| *k == g.kind));
    for r in store
        .query(
            "SELECT m.group_id, m.person_id, m.position, p.name_enc FROM group_members m
             JOIN org_groups g ON g.id = m.group_id JOIN people p ON p.id = m.person_id
             WHERE g.site_id = $1",
            &params![site],
        )
        .await?
    {
        let (group, person): (Uuid, Uuid) = (r.get(0)?, r.get(1)?);
        let position: String = r.get(2)?;
        let sealed: Vec<u8> = r.get(3)?;
        let Some(g) = groups.iter_mut().find(|g| g.id == group) else {
            continue;
        };
        g.members.push(Member {
            person,
            name: mask_name(&vault.open(NAME, person, &sealed)?),
            position: Position::parse_for(&position, g.kind)
                .map_err(|_| StoreError::Decode(format!("position {position}")))?,
        });
    }
    for g in &mut groups {
        g.members.sort_by_key(|m| (m.position, m.person));
    }
    Ok(groups)
}

pub async fn set_duties(
    tx: &mut Tx,
    site: Uuid,
    kind: GroupKind,
    duties: &str,
    now: OffsetDateTime,
) -> Result<()> {
    let n = tx
        .execute(
            "UPDATE org_groups SET duties = $3, updated_at = $4 WHERE site_id = $1 AND kind = $2",
            &params![site, kind.as_str(), duties, now],
        )
        .await?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Puts a person of the same site into a group (or changes their position). A group has
/// at most one head and one executive deputy.
pub async fn set_member(
    tx: &mut Tx,
    site: Uuid,
    kind: GroupKind,
    person: Uuid,
    position: Position,
) -> Result<()> {
    if !kind.positions().contains(&position) {
        return Err(StoreError::Invalid(FieldError::new(
            "position",
            "group.position.invalid",
        )));
    }
    let group: Uuid = tx
        .query_opt(
            "SELECT id FROM org_groups WHERE site_id = $1 AND kind = $2",
            &params![site, kind.as_str()],
        )
        .await?
        .ok_or(StoreError::NotFound)?
        .get(0)?;
    let same_site = tx
        .query_opt(
            "SELECT 1 FROM people WHERE id = $1 AND site_id = $2",
            &params![person, site],
        )
        .await?
        .is_some();
    if !same_site {
        return Err(StoreError::Invalid(FieldError::new(
            "person",
            "group.person.unknown",
        )));
    }
    if matches!(position, Position::Head | Position::ExecutiveDeputy) {
        let holder = tx
            .query_opt(
                "SELECT 1 FROM group_members WHERE group_id = $1 AND position = $2 AND person_id <> $3",
                &params![group, position.as_str(), person],
            )
            .await?;
        if holder.is_some() {
            return Err(StoreError::Invalid(FieldError::new(
                "position",
                "group.position.taken",
            )));
        }
    }
    tx.execute(
        "DELETE FROM group_members WHERE group_id = $1 AND person_id = $2",
        &params![group, person],
    )
    .await?;
    tx.execute(
        "INSERT INTO group_members (group_id, person_id, position) VALUES ($1, $2, $3)",
        &params![group, person, position.as_str()],
    )
    .await
    .map(drop)
}

pub async fn remove_member(tx: &mut Tx, site: Uuid, kind: GroupKind, person: Uuid) -> Result<()> {
    let n = tx
        .execute(
            "DELETE FROM group_members WHERE person_id = $3 AND group_id =
                (SELECT id FROM org_groups WHERE site_id = $1 AND kind = $2)",
            &params![site, kind.as_str(), person],
        )
        .await?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use fangkong_domain::org::SiteKind;

    fn site(n: u128, code: &str, parent: Option<&str>, depth: u32) -> SiteInTree {
        SiteInTree {
            site: Site {
                id: Uuid::from_u128(n),
                code: code.into(),
                name: code.into(),
                kind: SiteKind::Town,
                parent: parent.map(str::to_owned),
                address: String::new(),
                capacity: 1,
                opening_hours: String::new(),
                threshold: 373,
            },
            depth,
        }
    }

    #[test]
    fn each_parent_is_followed_by_its_whole_subtree() {
        // As text, "JD/JD-QX-B" sorts before "JD/JD-QX/JD-QX-01" ('-' < '/').
        let all = vec![
            site(1, "JD", None, 0),
            site(2, "JD-QX", Some("JD"), 1),
            site(3, "JD-QX-B", Some("JD"), 1),
            site(4, "JD-QX-01", Some("JD-QX"), 2),
            site(5, "JD-1", Some("JD"), 1),
            site(6, "JD-1-A", Some("JD-1"), 2),
            site(7, "JD-10", Some("JD"), 1),
        ];
        let codes: Vec<String> = tree_order(all).into_iter().map(|s| s.site.code).collect();
        assert_eq!(
            codes,
            [
                "JD", "JD-1", "JD-1-A", "JD-10", "JD-QX", "JD-QX-01", "JD-QX-B"
            ]
        );
    }
}
