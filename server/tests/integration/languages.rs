//! Issue 21 through the real server, texts embedded by the local encoder:
//! - a tenant whose messages are mostly not in English, embedded by the English-only local
//!   encoder, gets one warning in the Fit response (and the log); an English tenant gets none;
//! - a French tenant's keywords and labels are French content words, accents intact, no French
//!   stop word, no BERTopic-mangled token ("tltravail", "jai");
//! - greetings and thanks ("bonjour", "merci !", "hi!!", "thanks 🙏") are left out of the
//!   topics and never reach the top-10 snapshot, while with small-talk detection off they form
//!   a topic of their own (the control that shows the corpus would otherwise put them there).
//!
//! Needs the local encoder's weights (`topicd_testing::locate::model_dir`).

#![allow(clippy::unwrap_used)] // tests may unwrap

use crate::common;

use std::collections::BTreeSet;

use common::{fit_request, TestServer};
use tonic::transport::Channel;
use topic_engine::text::{is_stop_word, tokenize, Language};
use topicd::proto::topics_client::TopicsClient;
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

/// A server on the local encoder (weights from the one locator), `small_talk` detection on or
/// off.
async fn local_encoder_server(dir: &std::path::Path, small_talk: bool) -> TestServer {
    let mut cfg = common::config(dir);
    cfg.embedding.model = Some(topicd_testing::locate::model_dir().to_string_lossy().into_owned());
    cfg.embedding.device = "cpu".into();
    cfg.embedding.allow_download = false;
    cfg.fit.text.small_talk = small_talk;
    TestServer::start(cfg).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mostly_non_english_messages_with_an_english_only_encoder_get_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let server = local_encoder_server(dir.path(), true).await;
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

/// French support messages of four themes (refunds, delivery, account access, remote work),
/// written with accents and elisions (j'ai, l'adresse, qu'il, n'arrive).
const FRENCH_THEMES: [[&str; 10]; 4] = [
    [
        "j'ai demandé un remboursement il y a deux semaines et toujours rien",
        "quand vais-je recevoir le remboursement de ma commande annulée ?",
        "le remboursement promis n'est jamais arrivé sur mon compte bancaire",
        "vous m'aviez confirmé le remboursement, où en est-il ?",
        "remboursement toujours pas reçu malgré vos promesses",
        "je souhaite être remboursé intégralement pour l'article défectueux",
        "pourquoi le remboursement prend-il autant de temps ?",
        "on m'a refusé le remboursement alors que le produit était abîmé",
        "j'attends mon remboursement depuis le mois dernier",
        "merci de procéder au remboursement de la somme prélevée deux fois",
    ],
    [
        "mon colis n'est toujours pas livré, le suivi ne bouge plus",
        "le livreur dit qu'il est passé mais je n'ai reçu aucun colis",
        "livraison en retard de cinq jours, c'est inadmissible",
        "le colis indiqué livré a disparu, personne ne l'a reçu",
        "pouvez-vous vérifier le suivi de ma livraison ? le colis est bloqué à l'entrepôt",
        "j'ai reçu un colis abîmé, le carton était déchiré à la livraison",
        "la livraison devait arriver hier et le colis n'est pas là",
        "le transporteur a perdu mon colis, que faire ?",
        "changer l'adresse de livraison du colis avant l'expédition",
        "retard de livraison : le colis est parti du dépôt il y a une semaine",
    ],
    [
        "impossible de me connecter, le mot de passe est refusé",
        "j'ai oublié mon mot de passe et le lien de réinitialisation n'arrive pas",
        "mon compte est bloqué après trop de tentatives de connexion",
        "la connexion échoue avec l'application mobile depuis la mise à jour",
        "je ne reçois pas le code de vérification pour me connecter",
        "réinitialisation du mot de passe impossible, le lien a expiré",
        "mon identifiant n'est plus reconnu à la connexion",
        "compte verrouillé : comment débloquer l'accès ?",
        "le mot de passe temporaire ne fonctionne pas",
        "connexion refusée alors que mes identifiants sont corrects",
    ],
    [
        "je voudrais une journée de télétravail supplémentaire par semaine",
        "le télétravail est-il autorisé pendant la période d'essai ?",
        "ma demande de télétravail n'a pas été validée par mon responsable",
        "quelles sont les règles du télétravail pour l'équipe ?",
        "télétravail refusé sans explication, qui dois-je contacter ?",
        "peut-on cumuler télétravail et déplacements professionnels ?",
        "l'indemnité de télétravail n'apparaît pas sur ma fiche de paie",
        "accord de télétravail : où trouver le formulaire ?",
        "je dois faire du télétravail pendant les travaux de l'immeuble",
        "le matériel de télétravail promis n'est jamais arrivé",
    ],
];

/// Small talk in English and French: greetings, thanks, acknowledgements, emoji.
const GREETINGS: [&str; 12] = [
    "bonjour",
    "merci !",
    "hi!!",
    "hello?",
    "thanks 🙏",
    "ok",
    "merci beaucoup",
    "salut",
    "d'accord",
    "thank you",
    "bonjour ?",
    "👍",
];

/// The four themes, each message twice (a reference number appended), and every greeting twice:
/// 80 content messages, 24 greetings.
fn french_corpus() -> Vec<Document> {
    let mut docs = Vec::new();
    for (t, theme) in FRENCH_THEMES.iter().enumerate() {
        for round in 0..2 {
            for (i, text) in theme.iter().enumerate() {
                let text = if round == 0 { text.to_string() } else { format!("{text} (relance)") };
                docs.push(Document {
                    id: format!("fr-{t}-{round}-{i}"),
                    text,
                    created_at: "2026-11-24T12:00:00Z".into(),
                });
            }
        }
    }
    for round in 0..2 {
        for (i, g) in GREETINGS.iter().enumerate() {
            docs.push(Document {
                id: format!("greeting-{round}-{i}"),
                text: g.to_string(),
                created_at: "2026-11-24T12:00:00Z".into(),
            });
        }
    }
    docs
}

async fn fit_merge_top(
    c: &mut TopicsClient<Channel>,
    tenant: &str,
) -> (proto::FitResponse, Vec<proto::TopTopic>) {
    let mut req = fit_request(tenant, french_corpus(), vec![], "2026-11-24", "2026-11-25");
    req.params = Some(proto::FitParams { min_topic_size: Some(5), ..Default::default() });
    let fit = c.fit(req).await.unwrap().into_inner();
    c.merge(proto::MergeRequest {
        tenant_id: tenant.into(),
        day_version: fit.version.clone(),
        base_version: None,
        force: false,
    })
    .await
    .unwrap();
    let top = c
        .get_top_topics(proto::GetTopTopicsRequest {
            tenant_id: tenant.into(),
            limit: 10,
            include_trend: false,
        })
        .await
        .unwrap()
        .into_inner();
    (fit, top.topics)
}

/// True when a top topic is (mostly) small talk: one of its samples is a greeting.
fn holds_greetings(t: &proto::TopTopic) -> bool {
    t.sample_messages.iter().any(|s| GREETINGS.contains(&s.as_str()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn french_keywords_are_french_content_words_and_greetings_stay_out_of_the_top_10() {
    // Every word of the corpus as the Unicode tokeniser reads it: a keyword must be one of them
    // (BERTopic's preprocessing would make "tltravail", "jai", "ladresse", which are not).
    let words: BTreeSet<String> = french_corpus().iter().flat_map(|d| tokenize(&d.text)).collect();
    // The words that carry the greetings ("d'accord" leaves "accord", a content word of
    // "accord de télétravail").
    let greeting_words = ["bonjour", "merci", "salut", "hi", "hello", "thanks", "thank", "ok"];

    let dir = tempfile::tempdir().unwrap();
    let server = local_encoder_server(dir.path(), true).await;
    let mut c = server.client().await;
    let (fit, top) = fit_merge_top(&mut c, "acme").await;
    assert_eq!(fit.small_talk, 24, "every greeting, and nothing else, is small talk");
    for a in &fit.assignments {
        assert_eq!(a.document_id.starts_with("greeting-"), a.topic_id == -2, "{a:?}");
    }
    assert!(fit.topics.len() >= 2, "{} topics: {:?}", fit.topics.len(), fit.topics);
    assert!(!top.is_empty());
    let mut accented = 0;
    for t in &top {
        assert!(!holds_greetings(t), "small talk in the top 10: {t:?}");
        assert!(!t.keywords.is_empty(), "{t:?}");
        for k in &t.keywords {
            let w = k.word.as_str();
            assert!(!is_stop_word(Language::Fr, w), "French stop word {w:?} in {t:?}");
            assert!(!is_stop_word(Language::En, w), "English stop word {w:?} in {t:?}");
            assert!(words.contains(w), "{w:?} is not a word of the corpus (mangled?) in {t:?}");
            assert!(!greeting_words.contains(&w), "greeting {w:?} a keyword of {t:?}");
            if !w.is_ascii() {
                accented += 1;
            }
        }
        // Keyword labels are built from the keywords: French words, accents kept.
        for word in t.label.split(" · ").flat_map(|part| part.split(' ')) {
            let word = word.to_lowercase();
            assert!(words.contains(&word), "label word {word:?} of {t:?}");
        }
    }
    assert!(accented > 0, "no keyword with an accent: {top:?}");
    let all: Vec<&str> =
        top.iter().flat_map(|t| t.keywords.iter().map(|k| k.word.as_str())).collect();
    for expected in ["remboursement", "colis", "télétravail"] {
        assert!(all.contains(&expected), "{expected:?} not among the keywords {all:?}");
    }
    server.stop().await;

    // The control: with small-talk detection off the same messages put greetings in the top 10.
    let dir = tempfile::tempdir().unwrap();
    let server = local_encoder_server(dir.path(), false).await;
    let mut c = server.client().await;
    let (fit, top) = fit_merge_top(&mut c, "acme").await;
    assert_eq!(fit.small_talk, 0);
    assert!(top.iter().any(holds_greetings), "control: no greeting topic in {top:?}");
    server.stop().await;
}
