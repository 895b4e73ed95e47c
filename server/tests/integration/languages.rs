//! A tenant whose messages are mostly not in English, embedded by the English-only local
//! encoder, gets one warning in the Fit response (and the log); an English tenant gets none.
//! Needs the local encoder's weights (`topicd_testing::locate::model_dir`).

#![allow(clippy::unwrap_used)] // tests may unwrap

use crate::common;

use common::{fit_request, TestServer};
use topicd::proto::{self, Document};

const FRENCH: [&str; 8] = [
    "je n'ai toujours pas reçu mon remboursement pour la commande",
    "mon colis est en retard depuis plus d'une semaine maintenant",
    "je voudrais changer l'adresse de livraison de ma commande",
    "impossible de me connecter à mon compte depuis ce matin",
    "le mot de passe ne fonctionne plus après la mise à jour",
    "pouvez-vous annuler mon abonnement avant la fin du mois",
    "la facture de novembre contient une erreur sur le montant",
    "le livreur a laissé le paquet chez un voisin sans prévenir",
];

const ENGLISH: [&str; 8] = [
    "I still have not received my refund for the order",
    "my parcel has been late for more than a week now",
    "I would like to change the delivery address of my order",
    "I cannot log in to my account since this morning",
    "the password does not work anymore after the update",
    "can you cancel my subscription before the end of the month",
    "the November invoice has a mistake in the amount",
    "the courier left the parcel with a neighbour without telling me",
];

fn docs(texts: &[&str]) -> Vec<Document> {
    (0..48)
        .map(|i| Document {
            id: format!("m{i}"),
            text: format!("{} ({})", texts[i % texts.len()], i / texts.len() + 1),
            created_at: "2026-11-24T12:00:00Z".into(),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mostly_non_english_messages_with_an_english_only_encoder_get_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = common::config(dir.path());
    cfg.embedding.model = Some(topicd_testing::locate::model_dir().to_string_lossy().into_owned());
    cfg.embedding.device = "cpu".into();
    cfg.embedding.allow_download = false;
    let server = TestServer::start(cfg).await;
    let mut c = server.client().await;
    let params = || Some(proto::FitParams { min_topic_size: Some(5), ..Default::default() });

    let mut fr = fit_request("acme", docs(&FRENCH), vec![], "2026-11-24", "2026-11-25");
    fr.params = params();
    let r = c.fit(fr).await.unwrap().into_inner();
    assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
    assert!(
        r.warnings[0].starts_with("100 % of the messages are not in English"),
        "{}",
        r.warnings[0]
    );
    assert!(r.warnings[0].contains("all-MiniLM-L6-v2"), "{}", r.warnings[0]);

    let mut en = fit_request("globex", docs(&ENGLISH), vec![], "2026-11-24", "2026-11-25");
    en.params = params();
    let r = c.fit(en).await.unwrap().into_inner();
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    server.stop().await;
}
