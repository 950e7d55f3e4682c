/* synth genre grammars: the text of the eight built-in procedural genres and
 * their shared word pools. Data only; the compiler/expander is synth/genre.c.
 *
 * Rule syntax: "name=alt|alt|...". Inside an alternative: {rule} expands a
 * rule, {a|b|c} picks one inline choice (may nest), {#lo-hi} an integer,
 * {%lo-hi} a number with two decimals, {@N} N capital letters, {$N} N hex
 * digits, {^N} N digits. "U" is a genre's unit: one sentence plus separator.
 * Slots every few words keep word 8-grams from repeating (see the variety
 * test), and IDs, codes and numbers are common in every genre so anchors do
 * not stand out by their shape. */
#include "synth/genre_internal.h"

static const char *const shared[] = {
    "first=Alice|Bruno|Chiara|Dmitri|Elena|Farid|Greta|Hiroshi|Ingrid|Jamal|Kofi|Lucia|Mateo|Nadia|Oskar|Priya|"
    "Quentin|Rosa|Sven|Tamara|Umar|Vera|Wen|Ximena|Yusuf|Zofia|Anders|Beatriz|Cyrus|Delphine|Emeka|Fiona|Gustavo|"
    "Hana|Ivan|Jolene|Kenji|Leila|Marek|Noor|Olga|Pablo|Rania|Soren|Thandiwe|Ulrich|Valeria|Wojciech|Yara|Zeno",
    "last=Abara|Bergstrom|Castillo|Dubois|Eriksen|Fontaine|Gallagher|Horvat|Ibrahim|Jansen|Kowalski|Lindqvist|"
    "Moreau|Nakamura|Okafor|Petrov|Quinlan|Rossi|Schneider|Tanaka|Uzun|Varga|Whitaker|Xu|Yilmaz|Zimmermann|Achebe|"
    "Bianchi|Chen|Duarte|Esposito|Fischer|Gomez|Haddad|Iversen|Jovanovic|Kaur|Laurent|Mendes|Novak|Oliveira|Park",
    "person={first} {last}|{first} {last}|{first} {@1}. {last}",
    "city=Lisbon|Osaka|Nairobi|Tallinn|Porto Alegre|Winnipeg|Da Nang|Tbilisi|Rotterdam|Cordoba|Adelaide|Bergen|"
    "Izmir|Kraków|Valparaíso|Leipzig|Cebu|Accra|Tampere|Ljubljana|Mombasa|Kaunas|Brno|Surabaya|Halifax|Graz|Pune|"
    "Montevideo|Aarhus|Thessaloniki|Kazan|Lyon|Quito|Bilbao|Kochi|Dunedin",
    "country=Portugal|Japan|Kenya|Estonia|Brazil|Canada|Vietnam|Georgia|the Netherlands|Argentina|Australia|"
    "Norway|Turkey|Poland|Chile|Germany|the Philippines|Ghana|Finland|Slovenia|Lithuania|Czechia|Indonesia|Uruguay",
    "corp_a=Northwind|Bluefin|Cedar|Halcyon|Ironbridge|Juniper|Kestrel|Lumen|Meridian|Nimbus|Orchard|Pinnacle|"
    "Quarry|Redwood|Saltmarsh|Tessellate|Umbra|Vantage|Wexford|Yellowpine|Zephyr|Arbor|Basalt|Cobalt|Driftwood",
    "corp_b=Holdings|Systems|Logistics|Analytics|Foods|Materials|Energy|Labs|Partners|Robotics|Textiles|Freight|"
    "Pharma|Networks|Capital|Instruments|Ceramics|Mobility",
    "company={corp_a} {corp_b}|{corp_a} {corp_b}|{corp_a}-{corp_a} {corp_b}|{@3} {corp_b}",
    "month=January|February|March|April|May|June|July|August|September|October|November|December",
    "weekday=Monday|Tuesday|Wednesday|Thursday|Friday",
    "year=20{^2}|19{#70-99}",
    "date={month} {#1-28}, {year}|{#1-28} {month} {year}|{year}-0{#1-9}-{#10-28}",
    "adj=steady|modest|sharp|gradual|unexpected|notable|marginal|sustained|brief|considerable|uneven|robust|"
    "tentative|persistent|moderate|significant|slight|renewed|seasonal|cautious",
    "adv=slightly|markedly|steadily|briefly|consistently|unexpectedly|gradually|sharply|roughly|nearly",
    "color=amber|slate|crimson|teal|ivory|olive|cobalt|ochre|charcoal|sage|coral|indigo|sand|plum|graphite",
    "material=aluminium|oak|linen|stainless steel|recycled polymer|ceramic|walnut|bamboo|carbon fibre|wool|"
    "borosilicate glass|cork|brass|silicone|cotton canvas",
    "code={@3}-{^4}|{@2}{^3}|#{^5}|{@1}{^2}-{@2}|REF {^6}|{$6}",
};

static const char *const financial[] = {
    "U={S} |{S} |{S} |{S}\n\n",
    "S={company} reported {metric} of {money} for {period}, {cmp} {money} a year earlier."
    "|{metric_cap} {moved} {#2-38}.{#0-9} percent to {money} in {period}, driven by {driver}."
    "|Operating margin {moved} to {#3-41}.{#0-9}% as {driver} offset {cost}."
    "|The board approved a dividend of {#1-9}.{^2} per share, payable on {date} to holders of record."
    "|{segment} contributed {money}, or {#5-60}% of group {metric}, versus {#5-60}% in {period}."
    "|Net debt stood at {money} at the end of {period}, equal to {#1-4}.{#0-9} times {metric}."
    "|Management {guidance} full-year {metric} of {money} to {money}, citing {driver}."
    "|{cost_cap} rose {adv} to {money}, reflecting {driver} and {#2-19} new {facility}."
    "|Free cash flow of {money} was {adj} and {#10-95}% of it was returned to shareholders."
    "|In {city}, the {segment} unit booked orders worth {money} under contract {code}."
    "|Analyst {person} of {company} kept a {rating} rating with a target of {#12-480}.{^2}."
    "|Capital expenditure reached {money}, mostly on {facility} in {country}."
    "|The {adj} {moved2} in {metric} followed {driver} during {period}."
    "|Share count {moved} to {#40-900}.{#1-9} million after buybacks of {money}.",
    "metric=revenue|net income|EBITDA|gross profit|operating income|recurring revenue|adjusted earnings|net sales",
    "metric_cap=Revenue|Net income|EBITDA|Gross profit|Operating income|Recurring revenue|Net sales",
    "money=${#1-999}.{#1-9} million|${#1-99}.{^2} billion|EUR {#1-999} million|${#10-999},{^3}",
    "period=Q{#1-4} {year}|the first half of {year}|fiscal {year}|the {#3-4}rd quarter|the quarter ended {date}",
    "cmp=compared with|up from|down from|against|versus",
    "moved=rose|fell|climbed|declined|edged up|slipped|increased|decreased",
    "moved2=rise|decline|recovery|slowdown|swing|drop|gain",
    "driver={adj} demand in {country}|pricing actions|currency effects|lower input costs|the {corp_a} acquisition|"
    "volume growth in {segment}|a {adj} order backlog|weather-related disruption|higher freight rates",
    "cost=higher wages|energy costs|{material} prices|integration expenses|marketing spend|restructuring charges",
    "cost_cap=Selling expenses|Research costs|Administrative costs|Logistics costs|Raw material costs",
    "segment=Consumer|Industrial|Healthcare|Retail|Services|Aerospace|Packaging|Digital|Wholesale|Infrastructure",
    "guidance=raised its outlook for|reaffirmed|narrowed guidance for|lowered its forecast for|now expects",
    "facility=warehouses|plants|distribution hubs|data centres|stores|production lines|service depots",
    "rating=buy|hold|neutral|overweight|underweight|sell",
};

static const char *const techlog[] = {
    "U={S}\n",
    "S={ts} {lvl} [{svc}] {msg}",
    "ts={year}-0{#1-9}-{#10-28}T{hms}.{^3}Z|{hms}.{^3}|{year}-1{#0-2}-{#10-28} {hms}",
    "hms={#10-23}:{#10-59}:{#10-59}|0{#0-9}:{#10-59}:0{#0-9}",
    "lvl=INFO|INFO|INFO|DEBUG|WARN|ERROR|INFO|TRACE",
    "svc={svcname}-{#1-24}|{svcname}|{svcname}.{svcname}",
    "svcname=api|scheduler|auth|billing|ingest|cache|router|worker|indexer|mailer|gateway|storage|metrics|queue",
    "msg=request {$8} completed in {#1-950}ms status={status} bytes={#120-99999}"
    "|connection to {host}:{#1024-65000} {conn} after {#1-30} attempts"
    "|retrying job {code} (attempt {#1-7}/{#5-9}) backoff={#100-9000}ms"
    "|cache {hitmiss} for key user:{^6}:{keyname} ttl={#10-3600}s"
    "|user {first}.{last} {action} from {#10-250}.{#0-255}.{#0-255}.{#1-254}"
    "|flushed {#1-5000} records to shard {#0-63} lag={#0-900}ms"
    "|config reload: {keyname}={#1-512} (was {#1-512})"
    "|heap {#100-8000}MB gc pause {#1-400}ms generation={#0-2}"
    "|upstream {host} returned {status} for GET /v{#1-3}/{keyname}/{^5}"
    "|lease {$12} renewed by node-{#1-40} term={#1-999}"
    "|disk /dev/sd{@1}{#1-4} usage {#10-99}% inode {#1-99}%"
    "|dropped {#1-300} messages from topic {keyname}.{svcname} offset={^7}"
    "|certificate for {host} expires in {#1-90} days"
    "|migration {^4}_{keyname} applied in {#1-30}.{^2}s",
    "host={svcname}-{#1-9}.{region}.internal|db-{#1-12}.{region}|{#10-250}.{#0-255}.{#0-255}.{#1-254}",
    "region=eu-west-{#1-3}|us-east-{#1-2}|ap-south-1|sa-east-1|ca-central-1",
    "status=200|200|201|204|304|400|401|403|404|409|429|500|502|503",
    "conn=established|reset|timed out|refused|closed",
    "hitmiss=hit|miss|hit|stale",
    "keyname=profile|session|orders|inventory|invoice|settings|feed|avatar|cart|ledger|quota|routes",
    "action=logged in|logged out|changed password|enabled 2FA|exported data|was rate-limited",
};

static const char *const medical[] = {
    "U={S} |{S} |{S}\n\n|Q: {question}\nA: {S} |{S} |{S} ",
    "S={Dr} {explained} that {symptom} {after} {trigger} is {usually} {adj}, and {advice}."
    "|A {#18-90}-year-old {patient} {reported} {symptom} {lasting} {#2-21} days{with} {symptom2}."
    "|The {usual} dose of {drug} {for} {condition} is {#5-800} mg every {#4-24} hours, not exceeding {#1-4} g {perday}."
    "|{advice_cap}, {esp} if {symptom2} {develops} or {symptom} persists beyond {#2-14} days."
    "|In a {trial} of {#40-4000} {adults} in {country}, {drug} {reduced} {outcome} by {#5-60}% over {#4-52} weeks."
    "|Blood pressure was {#95-175}/{#55-105} mmHg and {hr} {#48-120} bpm at visit {code}."
    "|{Dr} at {city} {clinic} {noted} that {organ} function {often} {moved} {after} {trigger}."
    "|{Side} of {drug} {may} include {symptom2}, {symptom2}, and {rarely} {symptom2}."
    "|{patients_cap} with a history of {condition} should {discuss} {drug} with {their} {physician} first."
    "|Follow-up at {#2-12} weeks showed {adj} improvement in {outcome} for {#20-95}% of {cases}."
    "|Lab panel {code}: HbA1c {#4-11}.{#0-9}%, LDL {#60-220} mg/dL, creatinine {#0-2}.{#1-9} mg/dL."
    "|{Dr} {recommends} {drug} {#1-3} times daily {with_food} for {#3-14} days."
    "|{patients_cap} {taking} {drug} {should} avoid {avoid} {because} {symptom2} {may} {develop}."
    "|Referral {code} to {specialty} was {made} on {date} {for} {symptom}.",
    "question=Is {symptom} {after} {trigger} a concern?|How much {drug} can I take {for} {symptom}?|"
    "Can {condition} cause {symptom}?|What should I do about {symptom2}?|When should I see a doctor {for} {symptom}?|"
    "Is it safe to combine {drug} and {drug}?|Why do I get {symptom} {after} {trigger}?",
    "Dr=Dr. {last}|Dr. {first} {last}|Nurse {first} {last}|Pharmacist {last}|Professor {last}|Dr. {@1}. {last}",
    "explained=explained|noted|pointed out|stressed|wrote|told the clinic|answered",
    "after=after|following|soon after|within hours of|during",
    "usually=usually|often|in most cases|typically|rarely",
    "adj=harmless|benign|self-limiting|worth monitoring|mild|transient|manageable|common|{adv} {adj}",
    "adv=very|fairly|mostly|generally",
    "patient=patient|woman|man|runner|teacher|retiree|student|nurse|farmer|office worker",
    "reported=reported|described|complained of|presented with|noticed",
    "lasting=lasting|over|for about|for nearly|for",
    "with=,|, together with| plus|, then| and later",
    "usual=usual|standard|typical|starting|maximum",
    "for=for|in|to treat|against",
    "perday=per day|in 24 hours|daily",
    "esp=especially|particularly|above all|even more so",
    "develops=develops|appears|worsens|returns",
    "trial=trial|study|cohort study|registry review|pilot",
    "adults=adults|patients|volunteers|older adults|outpatients",
    "reduced=reduced|lowered|cut|did not change|improved",
    "hr=heart rate|pulse|resting pulse",
    "clinic=Clinic|General Hospital|Health Centre|University Hospital|Practice",
    "noted=noted|observed|reported|found",
    "often=often|sometimes|rarely|reliably|usually",
    "Side=Side effects|Adverse effects|Known reactions|Reported problems",
    "may=may|can|might|could",
    "rarely=in rare cases|occasionally|very rarely|in a few patients",
    "patients_cap=Patients|People|Adults|Children|Older adults|Pregnant women",
    "discuss=discuss|review|check|talk about",
    "their=their|a|the",
    "physician=physician|doctor|GP|pharmacist|specialist",
    "cases=cases|patients|participants|those treated",
    "recommends=recommends|prescribed|suggested|advised",
    "with_food=with food|after meals|before breakfast|at bedtime|with water",
    "taking=taking|on|using|prescribed",
    "should=should|must|are advised to|need to",
    "avoid=alcohol|grapefruit juice|driving|strenuous exercise|antacids|sun exposure",
    "because=because|since|as|given that",
    "develop=develop|occur|increase|appear",
    "specialty=cardiology|dermatology|neurology|physiotherapy|gastroenterology|endocrinology",
    "made=made|sent|requested|booked",
    "symptom=mild headache|lower back pain|a dry cough|joint stiffness|intermittent dizziness|fatigue|"
    "a skin rash|heartburn|shortness of breath|tingling in the hands|blurred vision|a sore throat|"
    "ringing in the ears|knee pain|night sweats|a stiff neck",
    "symptom2=nausea|a fever above 38 C|swelling|palpitations|insomnia|loss of appetite|chest tightness|"
    "persistent itching|numbness|muscle cramps|dry mouth|drowsiness|headache|bruising|constipation",
    "trigger=exercise|a long flight|a change in medication|poor sleep|a viral infection|prolonged screen use|"
    "cold weather|a heavy meal|standing for hours|dehydration|stress|caffeine|a vaccine|gardening",
    "drug=ibuprofen|paracetamol|metformin|amoxicillin|lisinopril|atorvastatin|cetirizine|omeprazole|"
    "sertraline|levothyroxine|amlodipine|salbutamol|naproxen|loratadine|prednisolone|ramipril",
    "advice=rest and fluids are advised|a short course of {drug} may help|a blood test is worthwhile|"
    "keeping a symptom diary is useful|gentle stretching tends to help|{#2-8} glasses of water a day help|"
    "a review in {#1-4} weeks is sensible",
    "advice_cap=Seek care promptly|Contact your clinic|Stop the medication and call a doctor|Book a review|"
    "Call {#100-999} {^4}|Visit the emergency department",
    "condition=asthma|diabetes|hypertension|kidney disease|migraine|gastritis|thyroid disorder|anaemia|gout|eczema",
    "outcome=hospital admissions|symptom scores|relapse rates|fasting glucose|pain scores|sick days|flare-ups",
    "organ=liver|kidney|thyroid|lung|heart|skin",
    "moved=improves|worsens|fluctuates|recovers|declines",
};

static const char *const biography[] = {
    "U={S} |{S} |{S} |{S}\n\n",
    "S={person} was born in {city}, {country}, in {year}, the {ordinal} of {#2-9} children of a {job}."
    "|After studying {field} at the University of {city}, {pron} moved to {city} in {year}."
    "|In {year} {pron} joined {company} as a {job}, where {pron} stayed for {#2-30} years."
    "|{pron_cap} married {person}, a {job} from {city}, and they had {#1-5} children."
    "|{pron_cap} {verb_past} {work} in {year}, which {reception}."
    "|{person} received the {award} in {year} for work on {topic}."
    "|During the {adj} years in {city}, {pron} wrote {#2-40} essays on {topic}."
    "|Friends such as {person} remembered {pron2} as {trait} and {trait}."
    "|{pron_cap} died in {city} on {date} at the age of {#45-99}."
    "|A {material} statue of {person} stands near the {place} in {city}."
    "|Letters to {person}, catalogued as {code}, describe {pron3} {adj} move to {country}.",
    "ordinal=eldest|second|third|youngest|fourth",
    "pron=she|he|she|he|they",
    "pron_cap=She|He|She|He|They",
    "pron2=her|him|them",
    "pron3=her|his|their",
    "job=teacher|carpenter|physician|merchant|sailor|engineer|seamstress|printer|farmer|clerk|chemist|violinist",
    "field=medicine|law|botany|architecture|mathematics|philology|chemistry|economics|painting|astronomy",
    "verb_past=published|completed|premiered|exhibited|founded|designed|translated",
    "work=a study of {topic}|the novel \"{color} {noun}\"|a bridge over the {river}|the {city} Quartet|"
    "a survey of {country} folk songs|the journal {corp_a} Review",
    "noun=Harbour|Orchard|Lantern|Winter|Compass|Meadow|Archive|Tide|Threshold|Atlas",
    "river=Tagus|Vistula|Danube|Loire|Mekong|Paraná|Dnieper|Elbe",
    "reception=was widely praised|drew {adj} criticism|sold {#2-90},000 copies|went largely unnoticed|"
    "was banned for {#2-12} years",
    "award={corp_a} Prize|{city} Medal|Order of {country}|{person} Fellowship",
    "topic=tidal energy|medieval trade routes|crystal structures|urban housing|language change|bird migration|"
    "public health|early photography|labour law|glacier retreat",
    "trait=generous|stubborn|witty|meticulous|restless|shy|patient|fiercely loyal",
    "place=old harbour|central library|main square|botanical garden|railway station",
    "adj=early|difficult|prolific|quiet|turbulent|final|formative",
};

static const char *const gamemanual[] = {
    "U={S} |{S} |{S}\n\n|{step}\n|{S} ",
    "S={Press} {button} to {action}; {hold} it for {#2-5} seconds to {action}."
    "|The {item} {restores} {#5-100} {pts} and can be {bought} in {town} for {#10-990} {coin}."
    "|{enemy} {foes} are weak to {element} {attacks} but {resist} {element}."
    "|Reaching level {#2-60} unlocks the {skill} {skillword}, which costs {#5-80} MP."
    "|In chapter {#1-12}, {npc} asks you to {find} the {item} hidden in {area}."
    "|Equip the {color} {gear} (+{#1-30} {stat}) before {entering} {area}."
    "|{Combo} {button}, {button}, {button} deals {#110-400}% damage to {enemy} {foes}."
    "|Save points in {area} are marked with a {color} crystal; {there} {#1-6} of them."
    "|Trophy {code}: defeat {#5-500} {enemy} {foes} without using {item}s."
    "|On {difficulty} difficulty, {foes} deal {#110-300}% damage and drop {#20-90}% less {coin}."
    "|The {gear} can be upgraded {#2-9} times at the {forge} in {town} using {#1-12} {resource}."
    "|{npc} sells {item}s for {#5-300} {coin} {when} {condition}."
    "|If your {stat} is below {#5-90}, {enemy} {foes} in {area} will {flee}."
    "|Secret {#1-9}: {action} {near} the {landmark} in {area} to reveal {reward}.",
    "step=Step {#1-9}: {action_cap} and then {action}.|Tip: {action_cap} to save {#2-30} seconds.|"
    "Note: {item}s stack up to {#3-99}.|Warning: {enemy} {foes} respawn after {#1-10} minutes.",
    "Press=Press|Tap|Push|Click|Hit",
    "hold=hold|keep|press",
    "button=A|B|X|Y|L1|R1|L2|R2|the left stick|the D-pad|Start|Select|Triangle|Circle|Square|Cross|Space|Shift",
    "action=dodge|parry|open the map|sprint|cast a spell|switch weapons|crouch|use a potion|lock on|pause|"
    "roll|jump|block|interact|whistle for your horse|change stance|aim|reload",
    "action_cap=Dodge|Parry|Open the map|Sprint|Crouch|Lock on|Use a potion|Roll|Block|Aim",
    "restores=restores|heals|recovers|refills|grants",
    "pts=HP|MP|stamina|health|mana",
    "bought=bought|purchased|found|traded for",
    "coin=gold|coins|crowns|gems|silver",
    "foes=enemies|foes|monsters|units|bosses",
    "attacks=attacks|damage|magic|arrows|spells",
    "resist=resist|absorb|ignore|reflect",
    "skillword=skill|ability|spell|technique|talent",
    "find=find|recover|bring back|steal|destroy",
    "entering=entering|exploring|returning to|leaving|facing the boss of",
    "Combo=The combo|Combo|Chain|The sequence",
    "there=there are|you will find|the map shows",
    "forge=forge|workshop|anvil|smithy",
    "when=once|after|only when|until",
    "condition=you finish chapter {#1-9}|night falls|you own the {item}|your reputation is {#10-99}",
    "flee=flee|ignore you|call for help|attack at once",
    "near=near|behind|under|beside",
    "landmark=waterfall|statue|broken cart|old well|lighthouse|third pillar",
    "reward=a hidden chest|a shortcut|{#100-900} {coin}|the {color} {gear}|a new {skillword}",
    "item=Elixir|Phoenix Feather|Iron Key|Moon Shard|Ether|Antidote|Ancient Map|Rune Stone|Silver Bell|"
    "Smoke Bomb|Lockpick|Hi-Potion|Torch",
    "town=Brightwater|Emberfall|Gloomhollow|Stonereach|Willowmere|Duskport|Frostvale|Ashgrove|Reedmarsh|Highcairn",
    "area=the Sunken Crypt|Mount Caldera|the Glass Desert|the Whispering Woods|Tower {#1-9}|the Old Mines|"
    "the {color} Marsh|Floor {#2-50} of the Abyss",
    "enemy=Skeleton|Slime|Wyvern|Bandit|Golem|Wraith|Harpy|Automaton|Lich|Goblin|Sand Worm|Ice Troll",
    "element=fire|ice|lightning|poison|holy|shadow|wind|earth",
    "skill=Whirlwind|Frost Nova|Shield Bash|Chain Spark|Shadow Step|Healing Rain|Quake|Blink|Volley",
    "npc=Captain {last}|the blacksmith {first}|Old {first}|Sister {first}|the merchant {last}|{first} the Bard",
    "gear=Longsword|Kite Shield|Leather Boots|Mage Staff|Chain Mail|Hunter Bow|War Hammer|Amulet|Gauntlets",
    "stat=ATK|DEF|SPD|MAG|LUCK|HP",
    "difficulty=Hard|Nightmare|Veteran|Ironman|Legend",
    "resource=iron ore|dragon scales|mythril|ember dust|spider silk|bone shards",
};

static const char *const encyclopedic[] = {
    "U={S} |{S} |{S} |{S}\n\n|{S} ",
    "S=The {animal} is a {species} of {family} {native} {region}, where it {inhabits} {habitat}."
    "|{element_cap} has atomic number {#1-118} and was first {isolated} by {person} in {year}."
    "|The {river} {flows} for {#80-6500} kilometres through {country} before {reaching} the {sea}."
    "|{city} lies at an elevation of {#2-3500} metres and {had} {#10-990},{^3} inhabitants in {year}."
    "|{Construction} of the {structure} began in {year} and took {#2-40} years to {complete}."
    "|The {animal} {feeds} on {food} and can live for up to {#2-90} years {wild}."
    "|{person}, a {field} scholar {from} {city}, proposed in {year} that {theory}."
    "|The {treaty} of {year}, signed in {city}, ended {#2-30} years of {conflict} {between} {country} and {country}."
    "|Annual rainfall in {region} averages {#80-3000} mm, {most} falling between {month} and {month}."
    "|The dialect spoken {around} {city} has about {#5-900},{^3} speakers and {#3-12} noun classes."
    "|Specimens catalogued as {code} are held at the {city} Museum of {field}."
    "|Mount {last} rises to {^4} metres and was first climbed in {year} by {person}."
    "|{Population} of the {animal} {fell} by {#5-80}% between {year} and {year} {due} {threat}."
    "|The {structure} was {restored} in {year} after {event}.",
    "species=species|genus|subspecies|small species|rare species",
    "native=native to|endemic to|found across|common in|restricted to",
    "inhabits=inhabits|lives in|prefers|breeds in|is found in",
    "isolated=isolated|described|identified|named|purified",
    "flows=flows|runs|winds|meanders",
    "reaching=reaching|emptying into|joining|entering",
    "had=had|counted|recorded|reported",
    "Construction=Construction|Work|Building|Excavation",
    "complete=complete|finish|reach its present form",
    "feeds=feeds mainly|feeds mostly|relies|survives largely",
    "wild=in the wild|in captivity|on average|",
    "from=from|based in|working in|born in",
    "between=between|involving|among",
    "most=most of it|the bulk|nearly all|about half",
    "around=around|north of|in|near",
    "Population=Numbers|The population|Counts|Sightings",
    "fell=fell|declined|dropped|rose|recovered",
    "due=because of|owing to|after|due to",
    "threat=habitat loss|drought|hunting|disease|conservation work|new reserves",
    "restored=restored|rebuilt|damaged|extended|reopened",
    "event=a fire|an earthquake|years of neglect|a flood|a public appeal|the war",
    "animal=marbled salamander|crested ibis|pygmy hippopotamus|snow leopard|giant otter|spotted eagle ray|"
    "long-tailed tit|desert tortoise|red panda|emperor tamarin|sand cat|olm|pangolin|axolotl|kakapo|saiga",
    "family=amphibian|wading bird|mammal|reptile|cartilaginous fish|songbird|primate|parrot|antelope",
    "region=the Andes|Central Asia|West Africa|the Balkans|southern Patagonia|the Mekong delta|Scandinavia|"
    "the Great Rift Valley|New Guinea|the Caucasus|Madagascar|the Atlas Mountains",
    "habitat=cloud forests|brackish lagoons|alpine meadows|mangrove swamps|limestone caves|dry savanna|steppe",
    "element_cap=Hafnium|Gallium|Tellurium|Niobium|Ruthenium|Cerium|Yttrium|Indium|Rhenium|Vanadium|Osmium",
    "river=Tagus|Vistula|Danube|Loire|Mekong|Paraná|Dnieper|Elbe|Orinoco|Volta|Irrawaddy",
    "sea=Atlantic|Black Sea|Baltic|South China Sea|Caspian Sea|North Sea|Gulf of Guinea",
    "structure={city} Cathedral|{last} Bridge|Great Canal of {city}|{city} Observatory|{last} Lighthouse|"
    "{city} Aqueduct|{last} Library",
    "food=insects|seeds|small fish|lichens|fruit|crustaceans|bamboo shoots|nectar|roots|snails",
    "field=geology|linguistics|natural history|archaeology|botany|physics|zoology|history",
    "theory=continents drift|languages borrow sound patterns|glaciers shaped the valley|"
    "the comet returns every {#30-200} years|trade spread the alphabet|the {animal} migrates",
    "treaty=Treaty|Concordat|Accord|Convention|Peace",
    "conflict=border disputes|civil war|naval rivalry|succession struggles|tariff wars",
};

static const char *const ecommerce[] = {
    "U={S} |{S} |{S}\n\n|- {feature}\n",
    "S={product_cap} by {brand}, {color}, {size}: now ${#5-900}.{#10-99} (was ${#10-999}.{#10-99})."
    "|Made from {material}, this {product} weighs {#80-9000} g and measures {#5-120} x {#5-120} cm."
    "|Rated {#1-4}.{#0-9} out of 5 by {#3-9000} customers; {#50-99}% would buy it again."
    "|Ships from {city} within {#1-5} business days; free delivery on orders over ${#25-150}."
    "|Review by {first} {@1}.: \"{review}\" ({#1-5} stars, {date})"
    "|SKU {code}; {#1-400} in stock; warranty: {#1-5} years."
    "|Bundle the {product} with a {product} and save {#5-40}% at checkout."
    "|Compatible with {brand} {product}s from {year} onwards; not suitable for {material}."
    "|Order {code} was dispatched on {date} via {carrier}, tracking {@2}{^9}{@2}."
    "|Returns accepted within {#14-90} days if the {product} is unused and in its {color} box.",
    "feature={adj} {material} finish|{#2-12}-year warranty|fits {size} spaces|{#1-40} colour options|"
    "dishwasher safe|ships in {#1-5} days",
    "product=desk lamp|water bottle|backpack|wireless speaker|chef's knife|yoga mat|kettle|office chair|"
    "phone case|rain jacket|air purifier|cast-iron pan",
    "product_cap=Desk lamp|Water bottle|Backpack|Wireless speaker|Chef's knife|Yoga mat|Kettle|Office chair|"
    "Rain jacket|Air purifier",
    "brand={corp_a}|{corp_a} Home|{corp_a}Works|{@3}",
    "size=small|medium|large|XL|{#20-80} L|{#10-200} ml|one size",
    "review=Exactly as described, {adj2}.|Arrived {adv} late but works well.|The {color} is darker than shown.|"
    "Sturdy and {adj2}; would recommend.|Stopped working after {#2-11} weeks.|Great value for the price.",
    "adj2=light|quiet|well made|compact|comfortable|easy to clean|a little noisy",
    "carrier={corp_a} Express|{corp_a} Post|{@3} Freight",
    "adj=matte|brushed|polished|textured|glossy",
};

static const char *const minutes[] = {
    "U={S} |{S} |{S}\n\n|{item}\n|{S} ",
    "S={person} {opened} the meeting at {#8-17}:{#10-59} with {#3-25} {members} present and {#0-6} apologies."
    "|The minutes of the {date} meeting were {approved} as {amended}."
    "|{person} {presented} the {report} and noted a {adj} {trend} in {topic}."
    "|It was {agreed} that {person} will {task} by {date}."
    "|{person} asked whether {topic} could be {moved} to the {month} agenda; {reply}."
    "|The {committee} voted {#3-12} to {#0-5} to {decision}."
    "|Action {code}: {person} to {task} (owner: {team})."
    "|{person} reported that the budget for {topic} is {#1-95}% spent with {#1-11} months remaining."
    "|Discussion of {topic} was {deferred} because {reason}."
    "|The next meeting will be held on {weekday} {date} in room {@1}{#100-499}."
    "|{person} thanked {person} for {thanks}."
    "|{person} {raised} {concern} about {topic}; {person} {responded}."
    "|{Members} {noted} that {topic} {status}.",
    "item=Item {#1-12}: {topic_cap}.|Decision: {decision_cap}.|Action: {person} to {task}.|"
    "Present: {person}, {person}, {person}.|Apologies: {person}.",
    "opened=opened|chaired|began|called to order",
    "members=members|trustees|staff|residents|directors|volunteers",
    "approved=approved|accepted|signed off|confirmed",
    "presented=presented|summarised|circulated|introduced",
    "agreed=agreed|resolved|decided|noted",
    "moved=moved|added|brought forward|postponed",
    "reply=the chair agreed|this was refused|{person} will check|no objection was raised",
    "committee=committee|board|panel|group|council",
    "deferred=deferred|postponed|cut short|held over",
    "raised=raised|voiced|shared|noted",
    "concern=concerns|a question|doubts|a complaint|an idea",
    "responded=responded that {#2-9} options exist|will report back|agreed to look into it|disagreed",
    "Members=Members|Trustees|The chair|Several attendees|{person}",
    "noted=noted|confirmed|reported|stressed",
    "status=is on track|is {#1-12} weeks behind|needs {#2-9} more volunteers|is complete|costs ${#1-90},{^3}",
    "amended=a true record|amended|circulated|corrected in item {#2-9}",
    "report=treasurer's report|safety review|quarterly update|membership figures|IT audit|risk register",
    "trend=increase|decrease|shift|backlog|improvement",
    "adj=slight|clear|worrying|welcome|small|sharp",
    "topic=the car park|the new website|volunteer recruitment|the spring fair|roof repairs|data retention|"
    "the hiring freeze|supplier contracts|the {city} office|training hours|the newsletter|parking permits",
    "topic_cap=Car park|New website|Volunteer recruitment|Spring fair|Roof repairs|Supplier contracts",
    "task=circulate the draft policy|obtain {#2-4} quotes|contact the council|update the risk register|"
    "book the venue|review the {report}|draft a reply to {person}|survey {#10-200} {members}",
    "team=Facilities|Finance|Comms|Operations|HR|Legal",
    "decision=approve the revised budget|extend the trial by {#1-6} months|appoint {person} as secretary|"
    "postpone the audit|adopt the new policy|spend up to ${#1-50},{^3} on {topic}",
    "decision_cap=Approve the revised budget|Extend the trial|Postpone the audit|Adopt the new policy",
    "reason={person} was absent|figures were incomplete|legal advice is pending|time ran out",
    "thanks=organising the event on {topic}|{#2-30} years of service|the detailed {report}",
};

const synth_genre_grammar synth_builtin_grammars[] = {
    {"financial_report", financial, sizeof financial / sizeof *financial},
    {"technical_log", techlog, sizeof techlog / sizeof *techlog},
    {"medical_qa", medical, sizeof medical / sizeof *medical},
    {"biography", biography, sizeof biography / sizeof *biography},
    {"game_manual", gamemanual, sizeof gamemanual / sizeof *gamemanual},
    {"encyclopedic", encyclopedic, sizeof encyclopedic / sizeof *encyclopedic},
    {"ecommerce_listing", ecommerce, sizeof ecommerce / sizeof *ecommerce},
    {"meeting_minutes", minutes, sizeof minutes / sizeof *minutes},
};
const int synth_builtin_grammar_count = sizeof synth_builtin_grammars / sizeof *synth_builtin_grammars;
const char *const *synth_shared_rules = shared;
const int synth_shared_rule_count = sizeof shared / sizeof *shared;
