//! `nexus catalog import-pies` and `import-aces`: streaming imports with per-record errors,
//! duplicates, deletes, broken XML, and what search sees afterwards.

use http::StatusCode;
use tests::{TestApp, shape_tests};

shape_tests!(
    a_pies_file_creates_and_updates_parts_and_reports_bad_items,
    an_aces_file_adds_fitment_counts_duplicates_deletes_and_reports_unknown_vehicles,
    broken_xml_stops_at_its_line_and_keeps_the_records_before_it,
);

async fn one<T: sea_orm::TryGetable>(app: &TestApp, sql: &str) -> T {
    app.platform_one(sql).await
}

fn file(app: &TestApp, name: &str, text: &str) -> String {
    let path = app.dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn pies(existing: &str) -> String {
    r#"<?xml version="1.0" encoding="UTF-8"?>
<PIES xmlns="http://www.autocare.org">
  <Header><PIESVersion>6.5</PIESVersion><SubmissionType>FULL</SubmissionType></Header>
  <Items>
    <Item MaintenanceType="A">
      <PartNumber>BP-7788</PartNumber>
      <BrandAAIAID>BBHK</BrandAAIAID>
      <BrandLabel>Bosch</BrandLabel>
      <PartTerminologyID>1684</PartTerminologyID>
      <ItemLevelGTIN GTINQualifier="UP">0028851123456</ItemLevelGTIN>
      <Descriptions>
        <Description MaintenanceType="A" DescriptionCode="SHO" LanguageCode="ES">Balata delantera cerámica QuietCast</Description>
        <Description MaintenanceType="A" DescriptionCode="DES" LanguageCode="ES">Juego de balatas &amp; sensores para Sentra</Description>
      </Descriptions>
      <Prices>
        <Pricing MaintenanceType="A" PriceType="JBR"><CurrencyCode>USD</CurrencyCode><Price UOM="PE">20.00</Price></Pricing>
        <Pricing MaintenanceType="A" PriceType="LST"><CurrencyCode>MXN</CurrencyCode><Price UOM="PE">850.50</Price></Pricing>
      </Prices>
      <PartInterchangeInfo>
        <PartInterchange MaintenanceType="A" BrandLabel="Nissan" QualityGradeLevel="OE"><PartNumber>D1060-3SG0A</PartNumber></PartInterchange>
        <PartInterchange MaintenanceType="A" BrandLabel="Wagner" BrandAAIAID="WGNR"><PartNumber>QC 1338</PartNumber></PartInterchange>
      </PartInterchangeInfo>
      <Packages><Package MaintenanceType="A"><PackageUOM>EA</PackageUOM><Weights UOM="KG"><Weight>1.2</Weight></Weights></Package></Packages>
    </Item>
    <Item MaintenanceType="A">
      <BrandAAIAID>BBHK</BrandAAIAID>
      <Descriptions><Description DescriptionCode="SHO">Sin número</Description></Descriptions>
    </Item>
    <Item MaintenanceType="A">
      <PartNumber>BP-9911</PartNumber>
      <BrandAAIAID>BBHK</BrandAAIAID>
      <Prices><Pricing PriceType="LST"><CurrencyCode>MXN</CurrencyCode><Price>caro</Price></Pricing></Prices>
    </Item>
    <Item MaintenanceType="A">
      <PartNumber>BP-10001</PartNumber>
      <BrandAAIAID>BBHK</BrandAAIAID>
      <Descriptions><Description DescriptionCode="SHO">Nombre corregido</Description></Descriptions>
      <Prices><Pricing PriceType="LST"><CurrencyCode>MXN</CurrencyCode><Price>123.45</Price></Pricing></Prices>
    </Item>
  </Items>
  <Trailer><ItemCount>4</ItemCount></Trailer>
</PIES>
"#
    .replace("BP-10001", existing)
}

async fn a_pies_file_creates_and_updates_parts_and_reports_bad_items(app: TestApp) {
    app.cli(&["catalog", "generate", "--parts", "200", "--seed", "7"])
        .await
        .unwrap();
    let existing: String = one(
        &app,
        "SELECT number FROM catalog_parts WHERE brand_id = 1 ORDER BY id LIMIT 1",
    )
    .await;
    let before: i64 = one(&app, "SELECT count(*) FROM catalog_parts").await;
    let path = file(&app, "items.xml", &pies(&existing));
    app.cli(&["catalog", "import-pies", &path]).await.unwrap();

    let after: i64 = one(&app, "SELECT count(*) FROM catalog_parts").await;
    assert_eq!(
        after,
        before + 1,
        "one new part; the bad items changed nothing"
    );
    let (name, price, desc): (String, i64, String) = (
        one(
            &app,
            "SELECT name FROM catalog_parts WHERE number = 'BP-7788'",
        )
        .await,
        one(
            &app,
            "SELECT retail_price_cents FROM catalog_parts WHERE number = 'BP-7788'",
        )
        .await,
        one(
            &app,
            "SELECT description FROM catalog_parts WHERE number = 'BP-7788'",
        )
        .await,
    );
    assert_eq!(name, "Balata delantera cerámica QuietCast");
    assert_eq!(price, 85_050, "the LST price in MXN, not the USD one");
    assert_eq!(desc, "Juego de balatas & sensores para Sentra");
    let category: String = one(
        &app,
        "SELECT c.name FROM catalog_parts p JOIN catalog_categories c ON c.id = p.category_id WHERE p.number = 'BP-7788'",
    )
    .await;
    assert_eq!(category, "Balata");
    let updated: String = one(
        &app,
        &format!("SELECT name FROM catalog_parts WHERE number = '{existing}'"),
    )
    .await;
    assert_eq!(updated, "Nombre corregido");
    let logged: i64 = one(&app, "SELECT count(DISTINCT part_id) FROM catalog_changes").await;
    assert_eq!(
        logged, 2,
        "both changed parts are in the change log for the search sync"
    );

    // Search sees the new part by its own and its interchange numbers at once.
    let t = app.tenant("acme").await;
    let token = app.token(&t.owner_email).await;
    for q in ["bp7788", "D10603SG0A", "qc-1338", "quietcast"] {
        let r = app
            .session(&token)
            .get(&format!("/pos/api/catalog/search?q={q}"))
            .await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.json["items"][0]["number"], "BP-7788", "{q}: {}", r.text());
    }

    // Importing the same file again updates instead of duplicating.
    app.cli(&["catalog", "import-pies", &path]).await.unwrap();
    let again: i64 = one(&app, "SELECT count(*) FROM catalog_parts").await;
    assert_eq!(again, after);
    let xrefs: i64 = one(
        &app,
        "SELECT count(*) FROM catalog_interchange i JOIN catalog_parts p ON p.id = i.part_id WHERE p.number = 'BP-7788'",
    )
    .await;
    assert_eq!(xrefs, 2);
}

fn aces(apps: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<ACES version="3.1">
 <Header><Company>Nexus Test</Company><BrandAAIAID>BBHK</BrandAAIAID><SubmissionType>UPDATE</SubmissionType></Header>
{apps}
 <Footer><RecordCount>0</RecordCount></Footer>
</ACES>
"#
    )
}

async fn an_aces_file_adds_fitment_counts_duplicates_deletes_and_reports_unknown_vehicles(
    app: TestApp,
) {
    app.cli(&["catalog", "generate", "--parts", "60", "--seed", "7"])
        .await
        .unwrap();
    let path = file(&app, "items.xml", &pies("BP-0"));
    app.cli(&["catalog", "import-pies", &path]).await.unwrap();
    let part: i64 = one(
        &app,
        "SELECT id FROM catalog_parts WHERE number = 'BP-7788'",
    )
    .await;
    let (base, engines, make, model): (i32, i64, i32, i32) = (
        one(&app, "SELECT v.base_vehicle_id FROM catalog_vehicles v JOIN catalog_models m ON m.id = v.model_id WHERE m.name = 'Sentra' AND v.year = 2015 LIMIT 1").await,
        one(&app, "SELECT count(*) FROM catalog_vehicles v JOIN catalog_models m ON m.id = v.model_id WHERE m.name = 'Sentra' AND v.year = 2015").await,
        one(&app, "SELECT mk.vcdb_id FROM catalog_makes mk WHERE mk.name = 'Nissan'").await,
        one(&app, "SELECT m.vcdb_id FROM catalog_models m WHERE m.name = 'Versa'").await,
    );
    let versa_2013_2014: i64 = one(&app, "SELECT count(*) FROM catalog_vehicles v JOIN catalog_models m ON m.id = v.model_id WHERE m.name = 'Versa' AND v.year BETWEEN 2013 AND 2014").await;
    let apps = format!(
        r#"
 <App action="A" id="1"><BaseVehicle id="{base}"/><Note>con sensor</Note><Qty>1</Qty><PartType id="1684"/><Position id="1"/><Part>BP-7788</Part></App>
 <App action="A" id="2"><BaseVehicle id="{base}"/><Note>con sensor</Note><Qty>1</Qty><PartType id="1684"/><Position id="1"/><Part>BP7788</Part></App>
 <App action="A" id="3"><BaseVehicle id="99999999"/><Qty>1</Qty><PartType id="1684"/><Part>BP-7788</Part></App>
 <App action="A" id="4"><Years from="2013" to="2014"/><Make id="{make}"/><Model id="{model}"/><Qty>2</Qty><Qual id="6"><param value="ABS"/><text>con ABS</text></Qual><Part>BP-7788</Part></App>
 <App action="A" id="5"><BaseVehicle id="{base}"/><Qty>1</Qty><Part>NO-SUCH-PART</Part></App>
 <App action="A" id="6"><BaseVehicle id="{base}"/><Qty>cero</Qty><Part>BP-7788</Part></App>
 <App action="D" id="7"><Years from="2014" to="2014"/><Make id="{make}"/><Model id="{model}"/><Part>BP-7788</Part></App>
"#
    );
    let path = file(&app, "apps.xml", &aces(&apps));
    app.cli(&["catalog", "import-aces", &path]).await.unwrap();

    let versa_2014: i64 = one(&app, "SELECT count(*) FROM catalog_vehicles v JOIN catalog_models m ON m.id = v.model_id WHERE m.name = 'Versa' AND v.year = 2014").await;
    let rows: i64 = one(
        &app,
        &format!("SELECT count(*) FROM catalog_fitment WHERE part_id = {part}"),
    )
    .await;
    assert_eq!(
        rows,
        engines + versa_2013_2014 - versa_2014,
        "app 1 for every Sentra 2015 engine, app 4 for Versa 2013-2014, app 7 took 2014 away"
    );
    let note: String = one(
        &app,
        &format!(
            "SELECT note FROM catalog_fitment WHERE part_id = {part} AND note IS NOT NULL LIMIT 1"
        ),
    )
    .await;
    assert_eq!(note, "con sensor");
    let qty: i16 = one(
        &app,
        &format!("SELECT max(qty) FROM catalog_fitment WHERE part_id = {part}"),
    )
    .await;
    assert_eq!(qty, 2);

    // The fitment shows in search by vehicle.
    let vehicle: i32 = one(
        &app,
        &format!("SELECT vehicle_id FROM catalog_fitment WHERE part_id = {part} LIMIT 1"),
    )
    .await;
    let t = app.tenant("acme").await;
    let token = app.token(&t.owner_email).await;
    let r = app
        .session(&token)
        .get(&format!(
            "/pos/api/catalog/search?q=balata&vehicle_id={vehicle}"
        ))
        .await;
    assert!(r.text().contains("BP-7788"), "{}", r.text());
}

async fn broken_xml_stops_at_its_line_and_keeps_the_records_before_it(app: TestApp) {
    app.cli(&["catalog", "generate", "--parts", "20", "--seed", "7"])
        .await
        .unwrap();
    let text = "<PIES>\n<Items>\n\
        <Item><PartNumber>ZZ-1</PartNumber><BrandLabel>Nueva</BrandLabel><Descriptions><Description DescriptionCode=\"SHO\">Uno</Description></Descriptions></Item>\n\
        <Item><PartNumber>ZZ-2</PartNumber><BrandLabel>Nueva</BrandLabel></Item>\n\
        <Item><PartNumber>ZZ-3</PartNumber><BrandLabel>Nueva</Item>\n\
        <Item><PartNumber>ZZ-4</PartNumber><BrandLabel>Nueva</BrandLabel></Item>\n\
        </Items>\n</PIES>\n";
    let path = file(&app, "broken.xml", text);
    let err = app
        .cli(&["catalog", "import-pies", &path])
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("line 5"), "{msg}");
    let kept: i64 = one(
        &app,
        "SELECT count(*) FROM catalog_parts WHERE number LIKE 'ZZ-%'",
    )
    .await;
    assert_eq!(
        kept, 2,
        "ZZ-1 and ZZ-2 are kept, nothing after the break is read"
    );
    let brand: String = one(&app, "SELECT name FROM catalog_brands WHERE name = 'Nueva'").await;
    assert_eq!(brand, "Nueva", "a brand named only by label is created");

    let missing = app
        .cli(&["catalog", "import-aces", "/no/such/file.xml"])
        .await
        .unwrap_err();
    assert!(missing.to_string().contains("cannot open"), "{missing}");
}
