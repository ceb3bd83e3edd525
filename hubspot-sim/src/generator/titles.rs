//! Messy free-text job titles rendered from a person's true seniority and department, with the
//! traps real CRMs contain ("Executive Assistant to the CEO", "Account Executive", "CTO/Co-founder").

use rand_chacha::ChaCha8Rng;

use super::icp::{Department, Seniority};
use super::random::{chance, pick};

/// Department names as people write them in titles.
fn department_words(department: Department) -> &'static [&'static str] {
    match department {
        Department::Engineering => &[
            "Engineering",
            "Engineering",
            "Eng",
            "R&D",
            "Software Engineering",
        ],
        Department::It => &[
            "IT",
            "IT",
            "Information Technology",
            "Infrastructure",
            "IT Operations",
        ],
        Department::Product => &["Product", "Product", "Product Management"],
        Department::Sales => &[
            "Sales",
            "Sales",
            "Sales & Marketing",
            "Global Sales",
            "Business Development",
        ],
        Department::Marketing => &[
            "Marketing",
            "Marketing",
            "Growth",
            "Demand Generation",
            "Brand",
        ],
        Department::Finance => &[
            "Finance",
            "Finance",
            "Accounting",
            "FP&A",
            "Finance & Admin",
        ],
        Department::People => &[
            "HR",
            "People",
            "Human Resources",
            "Talent",
            "People & Culture",
        ],
        Department::Operations => &[
            "Operations",
            "Operations",
            "Ops",
            "Supply Chain",
            "Logistics",
        ],
        Department::Support => &[
            "Customer Success",
            "Support",
            "Customer Service",
            "Client Services",
        ],
        Department::Legal => &["Legal", "Legal", "Compliance", "Legal & Compliance"],
        Department::General => &[
            "Administration",
            "Strategy",
            "Business Operations",
            "Office",
        ],
    }
}

/// Individual-contributor role nouns per department.
fn role_words(department: Department) -> &'static [&'static str] {
    match department {
        Department::Engineering => &[
            "Software Engineer",
            "Developer",
            "Backend Engineer",
            "Frontend Developer",
            "SWE",
            "Data Engineer",
            "DevOps Engineer",
        ],
        Department::It => &[
            "Systems Administrator",
            "IT Specialist",
            "Network Engineer",
            "sysadmin",
        ],
        Department::Product => &["Product Manager", "Product Owner", "PM", "UX Designer"],
        Department::Sales => &[
            "Account Executive",
            "Sales Development Representative",
            "SDR",
            "BDR",
            "Account Manager",
            "Sales Rep",
        ],
        Department::Marketing => &[
            "Marketing Specialist",
            "Content Marketer",
            "Growth Marketer",
            "SEO Specialist",
        ],
        Department::Finance => &[
            "Accountant",
            "Financial Analyst",
            "Controller",
            "Bookkeeper",
        ],
        Department::People => &[
            "Recruiter",
            "HR Generalist",
            "Talent Acquisition Specialist",
        ],
        Department::Operations => &[
            "Operations Analyst",
            "Operations Specialist",
            "Logistics Coordinator",
        ],
        Department::Support => &[
            "Customer Success Manager",
            "Support Engineer",
            "Support Agent",
            "CSM",
        ],
        Department::Legal => &["Paralegal", "Legal Counsel", "Compliance Analyst"],
        Department::General => &["Analyst", "Consultant", "Coordinator", "Associate"],
    }
}

fn executive_titles(department: Department) -> &'static [&'static str] {
    match department {
        Department::Engineering => &[
            "CTO",
            "Chief Technology Officer",
            "CTO/Co-founder",
            "Co-Founder & CTO",
        ],
        Department::It => &["CIO", "Chief Information Officer", "CISO"],
        Department::Product => &["Chief Product Officer", "CPO", "Co-founder, Product"],
        Department::Sales => &["CRO", "Chief Revenue Officer", "Chief Sales Officer"],
        Department::Marketing => &["CMO", "Chief Marketing Officer"],
        Department::Finance => &["CFO", "Chief Financial Officer", "Finance Director & CFO"],
        Department::People => &["Chief People Officer", "CHRO"],
        Department::Operations => &["COO", "Chief Operating Officer"],
        Department::Support => &["Chief Customer Officer", "CCO"],
        Department::Legal => &["General Counsel", "Chief Legal Officer"],
        Department::General => &[
            "CEO",
            "Founder & CEO",
            "Owner",
            "President",
            "Managing Director",
            "Geschäftsführer",
            "Co-Founder",
            "ceo",
        ],
    }
}

/// Renders a title; `None` means the contact has no job title on record.
pub(crate) fn render(
    rng: &mut ChaCha8Rng,
    seniority: Seniority,
    department: Department,
) -> Option<String> {
    if chance(rng, 0.08) {
        return None;
    }
    let dept = pick(rng, department_words(department));
    let role = pick(rng, role_words(department));
    let title = match seniority {
        Seniority::Intern => pick(
            rng,
            &[
                "Intern",
                "{d} Intern",
                "Working Student",
                "Summer Intern - {d}",
                "Trainee",
            ],
        )
        .replace("{d}", dept),
        Seniority::Assistant => pick(
            rng,
            &[
                "Executive Assistant to the CEO",
                "Assistant to the VP {d}",
                "Executive Assistant",
                "Office Manager",
                "Receptionist",
                "Admin Assistant",
                "Personal Assistant to the CFO",
            ],
        )
        .replace("{d}", dept),
        Seniority::Individual => pick(
            rng,
            &["{r}", "{r}", "{r} II", "Jr. {r}", "Junior {r}", "{r} I"],
        )
        .replace("{r}", role),
        Seniority::Senior => pick(
            rng,
            &[
                "Sr. {r}",
                "Senior {r}",
                "Lead {r}",
                "Principal {r}",
                "Staff {r}",
                "Sr {r}",
            ],
        )
        .replace("{r}", role),
        Seniority::Manager => pick(
            rng,
            &[
                "{d} Manager",
                "Manager, {d}",
                "Team Lead {d}",
                "{d} Lead",
                "Mgr {d}",
                "Manager of {d}",
            ],
        )
        .replace("{d}", dept),
        Seniority::Director => pick(
            rng,
            &[
                "Director of {d}",
                "{d} Director",
                "Dir. {d}",
                "Head of {d}",
                "Senior Director, {d}",
                "Director, {d}",
            ],
        )
        .replace("{d}", dept),
        Seniority::Vp => pick(
            rng,
            &[
                "VP, {d}",
                "VP of {d}",
                "V.P. {d}",
                "Vice President {d}",
                "SVP {d}",
                "vp {d}",
                "EVP, {d}",
            ],
        )
        .replace("{d}", dept),
        Seniority::Executive => {
            let pool = if chance(rng, 0.5) {
                executive_titles(department)
            } else {
                executive_titles(Department::General)
            };
            pick(rng, pool).to_owned()
        }
    };
    Some(add_noise(rng, title))
}

/// Case changes, stray whitespace and the occasional typo, as typed by humans.
fn add_noise(rng: &mut ChaCha8Rng, title: String) -> String {
    let mut title = if chance(rng, 0.10) {
        title.to_lowercase()
    } else if chance(rng, 0.03) {
        title.to_uppercase()
    } else {
        title
    };
    if chance(rng, 0.02) {
        title = swap_adjacent_letters(rng, &title);
    }
    if chance(rng, 0.03) {
        title.push(' ');
    }
    title
}

fn swap_adjacent_letters(rng: &mut ChaCha8Rng, text: &str) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    let candidates: Vec<usize> = (0..chars.len().saturating_sub(1))
        .filter(|&i| chars[i].is_alphabetic() && chars[i + 1].is_alphabetic())
        .collect();
    if candidates.is_empty() {
        return text.to_owned();
    }
    let at = pick(rng, &candidates);
    chars.swap(at, at + 1);
    chars.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generator::random::stream;

    #[test]
    fn titles_include_the_known_traps() {
        let mut rng = stream(3, 9);
        let titles: Vec<String> = (0..4000)
            .filter_map(|i| {
                let seniority = Seniority::ALL[i % Seniority::ALL.len()];
                let department = Department::ALL[i % Department::ALL.len()];
                render(&mut rng, seniority, department)
            })
            .collect();
        for trap in [
            "Executive Assistant to the CEO",
            "Account Executive",
            "CTO/Co-founder",
        ] {
            assert!(
                titles.iter().any(|t| t.contains(trap)),
                "missing trap {trap}"
            );
        }
        assert!(titles.iter().any(|t| t.starts_with("Sr. ")));
        assert!(
            titles
                .iter()
                .any(|t| *t == t.to_lowercase() && t.chars().any(char::is_alphabetic))
        );
    }
}
