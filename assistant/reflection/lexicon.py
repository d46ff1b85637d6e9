"""The words the builtin fact extraction knows: occupations, languages, nationalities,
countries, diets, pet species, vehicle makes, relationship words and the capitalised or
lower-case words that must never be read as a name or a value.

Lists, not patterns: adding a word here is how the rules learn a new job or language.
"""

from __future__ import annotations

from assistant.reflection.dates import MONTHS, WEEKDAYS


def words(text: str) -> frozenset[str]:
    """A set from a whitespace-separated word list (easier to read and extend)."""
    return frozenset(text.split())


OCCUPATIONS = words(
    """
    accountant actor actress administrator analyst architect artist assistant attorney
    auditor baker banker barber barista bartender biologist builder butcher carpenter
    cashier ceo cfo chef chemist cleaner clerk coach consultant cook cto counsellor
    counselor courier curator dentist designer developer dietitian director doctor
    driver economist editor electrician engineer entrepreneur farmer firefighter founder
    freelancer gardener geologist hairdresser illustrator intern journalist judge lawyer
    lead lecturer librarian manager mechanic midwife musician nanny nurse officer
    optician painter paralegal paramedic pharmacist photographer physician physicist
    physio physiotherapist pilot plumber policeman policewoman politician producer
    professor programmer psychiatrist psychologist receptionist recruiter researcher
    salesman saleswoman scientist secretary singer soldier solicitor surgeon tailor
    teacher technician therapist translator tutor vet veterinarian waiter waitress
    writer
    """
)
# "I'm a terrible cook" or "I'm a former nurse" is not a current job.
NOT_JOB_MODIFIERS = words(
    """
    awful bad better big decent ex failed former frustrated good great huge lousy
    mediocre retired terrible wannabe aspiring worst best bit
    """
)
LANGUAGES = words(
    """
    afrikaans albanian arabic armenian basque bengali bosnian bulgarian cantonese
    catalan chinese croatian czech danish dutch english esperanto estonian farsi
    filipino finnish french gaelic galician georgian german greek gujarati hebrew hindi
    hungarian icelandic indonesian irish italian japanese kannada korean kurdish latin
    latvian lithuanian luxembourgish macedonian malay malayalam maltese mandarin marathi
    mongolian nepali norwegian pashto persian polish portuguese punjabi romanian russian
    serbian sinhala slovak slovenian somali spanish swahili swedish tagalog tamil telugu
    thai tibetan turkish ukrainian urdu uzbek vietnamese welsh yiddish yoruba zulu asl
    bsl
    """
)
DEMONYMS = words(
    """
    afghan albanian algerian american angolan argentine argentinian armenian australian
    austrian bangladeshi belgian bolivian bosnian brazilian british bulgarian cambodian
    cameroonian canadian chilean chinese colombian croatian cuban cypriot czech danish
    dominican dutch ecuadorian egyptian english estonian ethiopian filipino finnish
    french georgian german ghanaian greek guatemalan haitian honduran hungarian
    icelandic indian indonesian iranian iraqi irish israeli italian jamaican japanese
    jordanian kenyan korean kosovar latvian lebanese libyan lithuanian luxembourgish
    malaysian maltese mexican moldovan moroccan mozambican nepalese nigerian norwegian
    pakistani palestinian panamanian paraguayan peruvian polish portuguese romanian
    russian salvadoran saudi scottish senegalese serbian singaporean slovak slovenian
    somali spanish swedish swiss syrian taiwanese tanzanian thai tunisian turkish
    ugandan ukrainian uruguayan venezuelan vietnamese welsh yemeni zimbabwean
    """
)
COUNTRIES = words(
    """
    afghanistan albania algeria angola argentina armenia australia austria bangladesh
    belgium bolivia bosnia brazil bulgaria cambodia cameroon canada chile china colombia
    croatia cuba cyprus czechia denmark ecuador egypt england estonia ethiopia finland
    france georgia germany ghana greece guatemala holland hungary iceland india
    indonesia iran iraq ireland israel italy jamaica japan jordan kenya korea kosovo
    latvia lebanon lithuania luxembourg malaysia malta mexico moldova morocco mozambique
    nepal netherlands nigeria norway pakistan panama paraguay peru philippines poland
    portugal romania russia scotland senegal serbia singapore slovakia slovenia spain
    sweden switzerland syria taiwan tanzania thailand tunisia turkey uganda ukraine
    uruguay usa uk uae venezuela vietnam wales
    """
) | {
    "united states", "united kingdom", "new zealand", "south africa", "south korea",
    "czech republic", "the netherlands", "the us", "the uk", "the usa", "costa rica",
    "dominican republic", "saudi arabia", "sri lanka", "united arab emirates",
}  # fmt: skip
DIETS = (
    "vegetarian", "vegan", "pescatarian", "pescetarian", "flexitarian", "gluten-free",
    "gluten free", "dairy-free", "dairy free", "lactose-free", "lactose free", "keto",
    "paleo", "kosher", "halal", "raw vegan", "plant-based", "plant based", "carnivore",
)  # fmt: skip
SPECIES = (
    "golden retriever", "labrador retriever", "german shepherd", "border collie",
    "french bulldog", "jack russell", "guinea pig", "bearded dragon", "maine coon",
    "labrador", "lab", "beagle", "poodle", "pug", "dachshund", "husky", "corgi",
    "bulldog", "chihuahua", "terrier", "spaniel", "greyhound", "whippet", "schnauzer",
    "retriever", "collie", "rottweiler", "shiba", "dog", "puppy", "pup", "cat",
    "kitten", "kitty", "rabbit", "bunny", "hamster", "gerbil", "parrot", "budgie",
    "canary", "cockatiel", "bird", "goldfish", "fish", "turtle", "tortoise", "snake",
    "lizard", "gecko", "iguana", "horse", "pony", "ferret", "chinchilla", "rat",
    "hedgehog", "chicken", "chickens", "goat", "pig", "axolotl",
)  # fmt: skip
# What one "plays" as a pastime; "I play it safe" or "playing for a month" is not one.
PLAYED = (
    "table tennis", "ping pong", "video games", "board games", "dungeons and dragons",
    "d&d", "water polo", "ultimate frisbee", "tennis", "football", "soccer", "basketball",
    "volleyball", "golf", "squash", "badminton", "padel", "cricket", "rugby", "hockey",
    "baseball", "softball", "handball", "netball", "chess", "poker", "bridge", "darts",
    "pool", "snooker", "bowls", "guitar", "bass", "piano", "keyboard", "violin", "viola",
    "cello", "drums", "ukulele", "flute", "clarinet", "saxophone", "sax", "trumpet",
    "trombone", "harp", "accordion", "banjo", "mandolin", "organ", "oboe", "harmonica",
)  # fmt: skip
VEHICLE_BRANDS = (
    "alfa romeo", "land rover", "range rover", "aston martin", "harley-davidson",
    "harley davidson", "mercedes-benz", "mercedes", "rolls-royce", "audi", "bmw", "byd",
    "brompton", "cannondale", "chevrolet", "chevy", "citroën", "citroen", "cupra",
    "dacia", "ducati", "fiat", "ford", "giant", "harley", "honda", "hyundai", "jaguar",
    "jeep", "kawasaki", "kia", "ktm", "lexus", "mazda", "mini", "mitsubishi", "nissan",
    "opel", "peugeot", "polestar", "porsche", "renault", "seat", "skoda", "škoda",
    "specialized", "subaru", "suzuki", "tesla", "toyota", "trek", "triumph", "vauxhall",
    "vespa", "volkswagen", "vw", "volvo", "yamaha", "royal enfield",
)  # fmt: skip
VEHICLE_NOUNS = (
    "car", "bike", "bicycle", "e-bike", "ebike", "motorbike", "motorcycle", "scooter",
    "moped", "van", "truck", "pickup", "campervan", "camper", "motorhome", "suv",
    "convertible", "hatchback", "minivan", "boat", "sailboat", "kayak",
)  # fmt: skip
# Relationship words after "my", longest first so "best friend" wins over "friend".
RELATIONS = (
    "best friend", "boyfriend", "girlfriend", "husband", "wife", "partner", "fiancé",
    "fiancée", "fiance", "fiancee", "spouse", "son", "daughter", "stepson",
    "stepdaughter", "sister", "brother", "half-sister", "half-brother", "stepsister",
    "stepbrother", "mum", "mom", "mother", "dad", "father", "stepmother", "stepfather",
    "grandma", "grandmother", "grandpa", "grandfather", "granddaughter", "grandson",
    "aunt", "uncle", "cousin", "niece", "nephew", "friend", "boss", "manager",
    "colleague", "coworker", "co-worker", "neighbour", "neighbor", "roommate",
    "flatmate", "housemate", "teammate", "classmate", "mentor", "landlord", "landlady",
    "mother-in-law", "father-in-law", "sister-in-law", "brother-in-law", "kid", "child",
    "baby", "ex",
)  # fmt: skip
PARTNER_RELATIONS = words(
    """
    boyfriend girlfriend husband wife partner fiancé fiancée fiance fiancee spouse
    """
)
CHILD_RELATIONS = words(
    """
    son daughter stepson stepdaughter kid child baby
    """
)
# "my kid Tom": Tom is a child of the speaker, but "kid" is no relationship label.
UNLABELLED_RELATIONS = words(
    """
    kid child baby
    """
)
FAMILY_TITLES = words(
    """
    grandma granny grandpa aunt auntie uncle cousin
    """
)
# Capitalised words that start sentences but never name a person.
NOT_NAMES = (
    words(
        """
        a about according actually after also an and anyway apparently as at because big
        btw but by currently dear dinner everyone everybody finally for from fyi guess
        haha he hello her here hey hi his honestly however i if in it its just lol maybe
        meeting my news no nobody nope not note now oh ok okay on our people please she
        so sounds looks seems feels always never thanks thank glad great good cool wow
        awesome nice love hope wish somebody someone sorry still that the their then
        there these they this those today tomorrow traffic update we well what when
        where which who why with yeah yes yesterday you your
        """
    )
    | set(MONTHS)
    | set(WEEKDAYS)
    | LANGUAGES
    | DEMONYMS
    | COUNTRIES
)
# Lower-case words that are not a place, organisation or thing one likes.
STOP_VALUES = words(
    """
    a all an and another any anything anywhere away back bed couch every everything
    everywhere he her here him his home house it its me mine my night nothing office one
    our ours place she some something somewhere that the their them there these they
    this those town us we what when where which who whoever work you your yours
    """
)
