#!/usr/bin/env python3
"""Write the labelled French customer-support set of the keyword-quality benchmark (issue 21).

    python make_french_support.py [--out benches/data/french-support.jsonl] [--per-intent 60]
                                  [--seed 21]

No public French support corpus with labels is available offline here, so this generator writes
one: 10 intents of a French-first messaging product's inbound traffic (customer service and
internal HR questions), each message built from an opening (often "Bonjour," or nothing), one or
two sentences drawn from 10–14 hand-written templates per intent with slots (products, delays,
months, amounts), and a closing ("Merci d'avance", "Cordialement", "bonne journée", nothing).
The templates are written as people write: accents (é è ê à ç ù ô î), elisions (j'ai, l'adresse,
qu'il, n'est, d'un, s'il, jusqu'à), some informal lower-case and unaccented spellings
("probleme", "deja"), questions and complaints. Every message carries its intent as "label".

Deterministic for a seed (Python's `random.Random`); duplicates are dropped, so each intent has
at most --per-intent messages. Output: one JSON object per line, {"id", "text", "label"}, the
format `topics fit --docs`, `topics embed --docs` and `shared/tools/score.py` read.
"""
from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

PRODUCTS = [
    "casque audio", "aspirateur", "machine à café", "téléphone", "bouilloire", "veste",
    "imprimante", "écran", "télévision", "chaussures", "montre connectée", "perceuse",
    "lave-vaisselle", "tablette", "grille-pain",
]
DELAYS = [
    "trois jours", "une semaine", "dix jours", "deux semaines", "trois semaines", "un mois",
    "plus d'un mois", "quinze jours",
]
MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
          "octobre", "novembre", "décembre"]
AMOUNTS = ["12,90 €", "49 €", "89,99 €", "120 €", "35,50 €", "249 €", "18 €", "64,20 €"]
CITIES = ["Lyon", "Marseille", "Lille", "Nantes", "Bordeaux", "Toulouse", "Rennes", "Strasbourg"]

OPENINGS = ["", "", "", "Bonjour, ", "Bonjour, ", "Bonjour ", "Bonsoir, ", "Salut, ",
            "Bonjour à tous, ", "Madame, Monsieur, ", "Re: ", "Hello, "]
CLOSINGS = ["", "", "", " Merci d'avance.", " Merci !", " Cordialement.", " Bonne journée.",
            " Merci pour votre aide.", " Merci de me répondre rapidement.", " Bien à vous.",
            " svp", " Merci beaucoup."]

INTENTS: dict[str, list[str]] = {
    "remboursement": [
        "J'ai renvoyé {product} il y a {delay} et je n'ai toujours pas été remboursé.",
        "Quand est-ce que je vais recevoir le remboursement de ma commande annulée ?",
        "Le remboursement de {amount} promis n'est jamais arrivé sur mon compte bancaire.",
        "Vous m'aviez confirmé le remboursement le {day} {month}, où en est-il ?",
        "Remboursement toujours pas reçu malgré vos promesses, c'est la troisième relance.",
        "Je souhaite être remboursé intégralement pour {product} que j'ai retourné.",
        "Pourquoi le remboursement prend-il autant de temps ? Ça fait {delay}.",
        "On m'a refusé le remboursement alors que le colis retour a bien été réceptionné.",
        "j'attends mon remboursement depuis {delay}, pouvez vous verifier ?",
        "Merci de procéder au remboursement de la somme de {amount} prélevée deux fois.",
        "Le virement du remboursement n'apparaît pas sur mon relevé.",
        "Est-ce que le remboursement se fait sur la carte utilisée pour l'achat ?",
        "Vous avez remboursé {amount} au lieu de la totalité de ma commande.",
    ],
    "livraison": [
        "Mon colis n'est toujours pas livré, le suivi ne bouge plus depuis {delay}.",
        "Le livreur dit qu'il est passé mais je n'ai reçu aucun colis.",
        "Livraison en retard de {delay}, c'est inadmissible.",
        "Le colis indiqué comme livré a disparu, personne ne l'a reçu à l'adresse.",
        "Pouvez-vous vérifier le suivi de ma livraison ? Le colis est bloqué à l'entrepôt de {city}.",
        "La livraison devait arriver hier et le colis n'est pas là.",
        "Le transporteur a perdu mon colis contenant {product}, que faire ?",
        "Retard de livraison : mon colis est parti du dépôt de {city} il y a {delay}.",
        "le colis est en point relais depuis {delay} mais je n'ai reçu aucun avis de passage",
        "Quel est le délai de livraison pour {product} ? Le suivi n'indique rien.",
        "Le numéro de suivi du colis ne fonctionne pas sur le site du transporteur.",
        "Livré chez un voisin sans prévenir, le colis est introuvable.",
        "Ma commande passée le {day} {month} n'est toujours pas expédiée.",
    ],
    "connexion": [
        "Impossible de me connecter, le mot de passe est refusé.",
        "J'ai oublié mon mot de passe et le lien de réinitialisation n'arrive pas.",
        "Mon compte est bloqué après trop de tentatives de connexion.",
        "La connexion échoue sur l'application mobile depuis la mise à jour.",
        "Je ne reçois pas le code de vérification par SMS pour me connecter.",
        "Réinitialisation du mot de passe impossible, le lien a expiré.",
        "Mon identifiant n'est plus reconnu à la connexion.",
        "Compte verrouillé : comment débloquer l'accès à mon espace client ?",
        "le mot de passe temporaire ne fonctionne pas, probleme de connexion",
        "Connexion refusée alors que mes identifiants sont corrects.",
        "L'authentification à deux facteurs me bloque, je n'ai plus mon ancien téléphone.",
        "Chaque fois que je me connecte, l'application me déconnecte aussitôt.",
        "Message d'erreur « identifiant ou mot de passe incorrect » alors que je l'ai changé hier.",
    ],
    "facture": [
        "La facture de {month} contient une erreur sur le montant.",
        "On m'a facturé {amount} de trop sur la dernière facture.",
        "Je n'ai pas reçu la facture de ma commande, pouvez-vous me l'envoyer ?",
        "Pourquoi ma facture de {month} est-elle plus élevée que d'habitude ?",
        "Il faudrait corriger le nom de la société sur la facture.",
        "J'ai besoin d'une facture avec le numéro de TVA intracommunautaire.",
        "Double prélèvement de {amount} sur mon compte pour la même facture.",
        "La facture indique des frais que je n'ai jamais acceptés.",
        "impossible de telecharger la facture depuis mon espace client",
        "Pouvez-vous m'envoyer un duplicata de la facture de {month} ?",
        "Le montant prélevé ne correspond pas à la facture : {amount} au lieu de {amount2}.",
        "Erreur de facturation : l'adresse de facturation est fausse.",
    ],
    "resiliation": [
        "Je souhaite résilier mon abonnement avant la fin du mois.",
        "Comment annuler mon abonnement ? Je ne trouve pas l'option dans l'application.",
        "Merci de résilier mon abonnement et de confirmer la résiliation par écrit.",
        "J'ai demandé la résiliation il y a {delay} et on me prélève encore.",
        "Je veux arrêter l'abonnement premium, il ne me sert plus.",
        "Résiliation de mon contrat suite à mon déménagement à {city}.",
        "Vous continuez à me prélever {amount} par mois alors que j'ai résilié.",
        "Quels sont les frais de résiliation si j'arrête l'abonnement maintenant ?",
        "annulation de l'abonnement svp, je ne l'utilise plus",
        "Je n'arrive pas à désactiver le renouvellement automatique de l'abonnement.",
        "Est-il possible de suspendre l'abonnement plutôt que de le résilier ?",
        "Confirmez-moi que l'abonnement est bien résilié à compter du {day} {month}.",
    ],
    "adresse": [
        "Je voudrais changer l'adresse de livraison de ma commande.",
        "J'ai déménagé à {city}, comment mettre à jour mon adresse ?",
        "L'adresse enregistrée sur mon compte est erronée, il manque le numéro d'appartement.",
        "Pouvez-vous modifier l'adresse de facturation avant l'expédition ?",
        "Je me suis trompé d'adresse en passant commande, est-ce encore modifiable ?",
        "Le code postal de mon adresse est faux, la commande risque de partir ailleurs.",
        "Comment ajouter une deuxième adresse de livraison dans mon compte ?",
        "Changement d'adresse : je serai à {city} à partir du {day} {month}.",
        "mauvaise adresse sur la commande, il faut la corriger rapidement",
        "Impossible d'enregistrer ma nouvelle adresse, le formulaire affiche une erreur.",
        "Est-ce que je peux faire livrer à l'adresse de mon bureau plutôt qu'à mon domicile ?",
        "L'adresse du point relais choisi a changé, pouvez-vous mettre à jour la commande ?",
    ],
    "produit_defectueux": [
        "{product_cap} reçu est cassé, l'écran est fissuré.",
        "{product_cap} ne s'allume plus après {delay} d'utilisation.",
        "Le produit reçu est défectueux, comment faire jouer la garantie ?",
        "{product_cap} fait un bruit anormal et chauffe beaucoup.",
        "Il manque une pièce dans le carton de {product}.",
        "J'ai reçu {product} abîmé, l'emballage était déchiré.",
        "La garantie couvre-t-elle une panne de {product} au bout de {delay} ?",
        "{product_cap} est tombé en panne, je voudrais un échange.",
        "produit defectueux, {product} ne fonctionne pas du tout",
        "Le bouton de {product} est cassé dès la première utilisation.",
        "Je demande le remplacement de {product} qui présente un défaut de fabrication.",
        "{product_cap} reçu ne correspond pas à la photo et il est rayé.",
    ],
    "teletravail": [
        "Je voudrais une journée de télétravail supplémentaire par semaine.",
        "Le télétravail est-il autorisé pendant la période d'essai ?",
        "Ma demande de télétravail n'a pas été validée par mon responsable.",
        "Quelles sont les règles du télétravail pour l'équipe de {city} ?",
        "Télétravail refusé sans explication, qui dois-je contacter ?",
        "L'indemnité de télétravail n'apparaît pas sur ma fiche de paie de {month}.",
        "Accord de télétravail : où trouver le formulaire à signer ?",
        "Je dois faire du télétravail pendant les travaux de l'immeuble.",
        "Le matériel de télétravail promis (écran, chaise) n'est jamais arrivé.",
        "teletravail le vendredi, est-ce possible pour les nouveaux arrivants ?",
        "Combien de jours de télétravail par mois sont autorisés en {month} ?",
        "Le VPN ne marche pas en télétravail, je ne peux pas accéder aux dossiers partagés.",
    ],
    "conges": [
        "Je voudrais poser une semaine de congés en {month}.",
        "Combien de jours de congés me reste-t-il cette année ?",
        "Ma demande de congés n'a toujours pas été validée par mon responsable.",
        "Les congés payés non pris sont-ils reportés l'an prochain ?",
        "Erreur dans mon solde de congés : il manque trois jours.",
        "Je dois annuler mes congés du {day} {month}, comment faire ?",
        "Puis-je prendre des congés pendant la période d'essai ?",
        "Les RTT et les congés apparaissent mélangés sur mon bulletin.",
        "conges maternité : quels documents faut-il fournir aux RH ?",
        "Jours fériés et congés : le pont de mai compte-t-il dans mon solde ?",
        "J'ai posé des congés mais le planning de l'équipe ne les affiche pas.",
        "Qui valide les congés quand mon manager est lui-même en vacances ?",
    ],
    "note_de_frais": [
        "Ma note de frais de {month} n'a toujours pas été remboursée.",
        "Comment déclarer les frais de mon déplacement à {city} ?",
        "Le plafond des frais de repas en déplacement est-il de {amount} ?",
        "Ma note de frais a été refusée sans justification.",
        "Où envoyer les justificatifs de mes frais de déplacement ?",
        "Les frais kilométriques de mon déplacement à {city} ne sont pas pris en compte.",
        "J'ai avancé {amount} pour l'hôtel lors du déplacement, quand serai-je remboursé ?",
        "note de frais bloquée dans l'outil, le bouton valider ne marche pas",
        "Faut-il un accord préalable pour un déplacement professionnel à {city} ?",
        "Le ticket de train pour le déplacement est-il remboursé à 100 % ?",
        "J'ai perdu un justificatif, ma note de frais peut-elle quand même passer ?",
        "Les frais de taxi du déplacement du {day} {month} ont été oubliés.",
    ],
}

# A second sentence, by intent, added to about a third of the messages.
FOLLOW_UPS: dict[str, list[str]] = {
    "remboursement": ["Je commence à perdre patience.", "Mon numéro de commande est dans l'historique.",
                      "Je n'ai reçu aucun e-mail de confirmation du remboursement."],
    "livraison": ["J'en ai besoin avant le week-end.", "Le suivi indique « en cours d'acheminement ».",
                  "C'est la deuxième fois que ça arrive."],
    "connexion": ["J'ai essayé sur ordinateur et sur mobile.", "J'ai vidé le cache, rien n'y fait.",
                  "Je n'ai plus accès à mes commandes."],
    "facture": ["Je dois la transmettre à la comptabilité.", "Merci de m'envoyer une facture corrigée.",
                "C'est pour une note de la société."],
    "resiliation": ["Je ne veux plus être prélevé.", "Je l'ai déjà demandé par téléphone.",
                    "Merci de m'envoyer la confirmation."],
    "adresse": ["La commande n'est pas encore partie.", "Je déménage la semaine prochaine.",
                "Le livreur ne trouvera pas l'immeuble sinon."],
    "produit_defectueux": ["J'ai des photos si besoin.", "Je l'ai reçu il y a {delay}.",
                           "Je voudrais un remplacement rapide."],
    "teletravail": ["Mon responsable est d'accord sur le principe.", "C'est urgent pour l'organisation.",
                    "Je n'ai rien trouvé dans l'intranet."],
    "conges": ["Mon responsable ne répond pas.", "C'est pour un mariage dans la famille.",
               "Le logiciel RH ne me laisse pas valider."],
    "note_de_frais": ["J'ai joint les justificatifs dans l'outil.", "Ça fait deux mois que j'attends.",
                      "Le service comptable ne répond pas."],
}


def fill(template: str, rng: random.Random) -> str:
    product = rng.choice(PRODUCTS)
    amount, amount2 = rng.sample(AMOUNTS, 2)
    article = "La " if product in {"machine à café", "bouilloire", "veste", "imprimante",
                                   "télévision", "montre connectée", "perceuse", "tablette"} else "Le "
    if product in {"aspirateur", "écran"}:
        article = "L'"
    elif product == "chaussures":
        article = "Les "
    return template.format(
        product=product,
        product_cap=article + product,
        delay=rng.choice(DELAYS),
        month=rng.choice(MONTHS),
        day=rng.randint(1, 28),
        amount=amount,
        amount2=amount2,
        city=rng.choice(CITIES),
    )


def lower_first(s: str) -> str:
    """Lower-cases the first letter after "Bonjour, " unless it starts an acronym (VPN, RTT)."""
    if len(s) > 1 and s[1].isupper():
        return s
    return s[:1].lower() + s[1:]


def message(intent: str, rng: random.Random) -> str:
    core = fill(rng.choice(INTENTS[intent]), rng)
    opening = rng.choice(OPENINGS)
    if opening.endswith(", ") and opening not in {"Madame, Monsieur, "}:
        core = lower_first(core)
    text = opening + core
    if rng.random() < 0.35:
        text += " " + fill(rng.choice(FOLLOW_UPS[intent]), rng)
    text += rng.choice(CLOSINGS)
    return text.strip()


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path,
                    default=Path(__file__).resolve().parents[1] / "data" / "french-support.jsonl")
    ap.add_argument("--per-intent", type=int, default=60)
    ap.add_argument("--seed", type=int, default=21)
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    rows = []
    for intent in INTENTS:
        seen: set[str] = set()
        for _ in range(args.per_intent * 20):
            if len(seen) == args.per_intent:
                break
            text = message(intent, rng)
            if text not in seen:
                seen.add(text)
                rows.append({"text": text, "label": intent})
    rng.shuffle(rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as fh:
        for i, row in enumerate(rows):
            fh.write(json.dumps({"id": f"fr-{i:04d}", **row}, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} messages over {len(INTENTS)} intents to {args.out}")


if __name__ == "__main__":
    main()
