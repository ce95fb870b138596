//! Sites, resident units and windows.

use crate::{Result, Row, Store, StoreError, Tx, params};
use fangkong_domain::FieldError;
use fangkong_domain::clock::IdSource;
use fangkong_domain::org::{NewSite, NewUnit, SiteKind, check_placement};
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
}

const SELECT_SITE: &str = "SELECT s.id, s.code, s.name, s.kind, p.code, s.address, s.capacity";
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
    rows.iter()
        .map(|r| {
            Ok(SiteInTree {
                site: site_from(r)?,
                depth: r.get(7)?,
            })
        })
        .collect()
}

const SITE_BY_CODE: &str = "SELECT s.id, s.code, s.name, s.kind, p.code, s.address, s.capacity
    FROM sites s LEFT JOIN sites p ON p.id = s.parent_id WHERE s.code = $1";

pub async fn find_site(store: &Store, code: &str) -> Result<Option<Site>> {
    store
        .query_opt(SITE_BY_CODE, &params![code])
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
