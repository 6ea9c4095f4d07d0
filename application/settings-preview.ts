import * as E from 'fp-ts/lib/Either.js';
import type { RecipientRole } from '../domain/notification.ts';
import { MAX_BODY_TEMPLATE_LENGTH, MAX_SUBJECT_LENGTH, emailLanguageOf, emailTopics } from '../domain/settings.ts';
import type { EmailTopic } from '../domain/settings.ts';
import type { FieldError } from '../domain/shared.ts';
import { foreignToken, meetingTokens, parseTemplate, seriesTokens, tokensForTopic } from '../domain/template.ts';
import { trainingTypeNames } from '../domain/email-defaults.ts';
import type { AppError, RequestContext } from './execute.ts';
import { isAdmin, readsAll } from './ports/access.ts';
import type { MeetingQueries, MeetingView } from './ports/read-models.ts';
import { renderCancellationEmail } from './notifications/render.ts';

/** What a preview renders: a template pair as the editor has it now, for one kind of reader and one session. */
export interface PreviewRequest {
  readonly subject: string;
  readonly bodyTemplate: string;
  /** Whose email: fills `{{recipientName}}` and `{{counterpartName}}`, and picks the zone (default: the member). */
  readonly recipient?: RecipientRole;
  /** The session to render for; absent: the next one to come across the branch, else the latest before now. */
  readonly meetingId?: string;
  /** The reason a cancellation would give (absent: the session's own, if it was cancelled). */
  readonly reason?: string;
  /** Which email (absent: the cancellation, as before topics); its tokens are the ones checked. */
  readonly topic?: EmailTopic;
  /** The reader's language (`es`, `es-MX`): names the training type as that email does. Absent: English. */
  readonly language?: string;
}

export interface PreviewAnswer {
  readonly subject: string;
  readonly html: string;
  readonly text: string;
  /** The session rendered, or absent when the branch has none and example values were used. */
  readonly meetingId?: string;
}

/**
 * The tokens a template may use: the domain's own lists, as templates are checked against them. `meeting` and
 * `series` are the cancellation's (as before topics); `topics` names every topic's own.
 */
export const templateTokenList = () => ({
  meeting: [...meetingTokens],
  series: [...seriesTokens],
  topics: Object.fromEntries(emailTopics.map((topic) => [topic, [...tokensForTopic(topic)]])) as Record<
    EmailTopic,
    string[]
  >,
});

/** How far either side of now a preview looks for a session to render, and whose sessions (the first people by name). */
const PREVIEW_WINDOW_MS = 5 * 366 * 24 * 3600 * 1000;
const PREVIEW_PEOPLE = 200;

const templateErrors = (request: PreviewRequest): FieldError[] => {
  const errors: FieldError[] = [];
  if (request.subject.trim().length === 0 || request.subject.length > MAX_SUBJECT_LENGTH)
    errors.push({ path: 'subject', message: `must be 1 to ${MAX_SUBJECT_LENGTH} characters` });
  if (/[\r\n]/.test(request.subject)) errors.push({ path: 'subject', message: 'must be a single line' });
  if (request.bodyTemplate.length > MAX_BODY_TEMPLATE_LENGTH)
    errors.push({ path: 'bodyTemplate', message: `must be at most ${MAX_BODY_TEMPLATE_LENGTH} characters` });
  for (const [path, template] of [
    ['subject', request.subject],
    ['bodyTemplate', request.bodyTemplate],
  ] as const) {
    const parts = parseTemplate(template);
    if (E.isLeft(parts)) errors.push({ path, message: parts.left });
    else {
      const topic = request.topic ?? 'cancelled';
      const foreign = foreignToken(parts.right, tokensForTopic(topic));
      if (foreign !== undefined) errors.push({ path, message: `'{{${foreign}}}' is not filled in ${topic} emails` });
    }
  }
  if (request.reason !== undefined && request.reason.length > 1000)
    errors.push({ path: 'reason', message: 'must be at most 1000 characters' });
  return errors;
};

/**
 * Settings previews for the admin: a cancellation email rendered by the mailer's own code (its escaping, its dates in
 * the reader's zone) for a real session, writing nothing. Readers of settings see the token list.
 */
export const createSettingsPreview = (deps: {
  readonly queries: Pick<MeetingQueries, 'getMeeting' | 'getPerson' | 'listPeople' | 'activeMeetingsOverlapping'>;
  readonly siteName: string;
  readonly clock: () => Date;
  /** The site's address: `{{location}}` of the examples. */
  readonly publicBaseUrl?: () => string;
}) => {
  const { queries } = deps;

  /** The next session to come, else the latest one before now. */
  const nearestMeeting = (): MeetingView | undefined => {
    const now = deps.clock().getTime();
    const people = queries.listPeople({ limit: PREVIEW_PEOPLE }).items.map((person) => person.id);
    if (people.length === 0) return undefined;
    const nowIso = new Date(now).toISOString();
    const byStart = (a: MeetingView, b: MeetingView) => a.start.localeCompare(b.start);
    const ahead = [
      ...queries.activeMeetingsOverlapping(people, nowIso, new Date(now + PREVIEW_WINDOW_MS).toISOString()),
    ]
      .filter((m) => m.start >= nowIso)
      .sort(byStart);
    if (ahead[0] !== undefined) return ahead[0];
    const past = [
      ...queries.activeMeetingsOverlapping(people, new Date(now - PREVIEW_WINDOW_MS).toISOString(), nowIso),
    ];
    return past.sort(byStart)[past.length - 1];
  };

  const sample = (request: PreviewRequest) => {
    const start = new Date(deps.clock().getTime() + 24 * 3600 * 1000);
    start.setUTCMinutes(0, 0, 0);
    return {
      title: 'Example session',
      customerName: 'Example Member',
      instructorName: 'Example Trainer',
      timezone: 'UTC',
      reason: request.reason,
      sessions: [{ start: start.toISOString(), end: new Date(start.getTime() + 3600 * 1000).toISOString() }],
    };
  };

  return {
    tokens(ctx: RequestContext): E.Either<AppError, ReturnType<typeof templateTokenList>> {
      if (!readsAll(ctx.user))
        return E.left({ _tag: 'Forbidden', message: 'only admins and auditors may read settings' });
      return E.right(templateTokenList());
    },

    preview(ctx: RequestContext, request: PreviewRequest): E.Either<AppError, PreviewAnswer> {
      if (!isAdmin(ctx.user)) return E.left({ _tag: 'Forbidden', message: 'only admins may preview settings' });
      const errors = templateErrors(request);
      if (errors.length > 0) return E.left({ _tag: 'ValidationFailed', errors });
      const meeting = request.meetingId !== undefined ? queries.getMeeting(request.meetingId) : nearestMeeting();
      if (request.meetingId !== undefined && meeting === undefined)
        return E.left({ _tag: 'NotFound', message: 'meeting not found' });
      const role = request.recipient ?? 'customer';
      const reader =
        meeting === undefined
          ? undefined
          : queries.getPerson(role === 'customer' ? meeting.customerId : meeting.instructorId);
      const nameOf = (id: string) => queries.getPerson(id)?.name ?? id;
      const facts =
        meeting === undefined
          ? sample(request)
          : {
              title: meeting.title,
              customerName: nameOf(meeting.customerId),
              instructorName: nameOf(meeting.instructorId),
              timezone: reader?.timezone ?? meeting.timezone,
              reason: request.reason ?? meeting.cancellationReason,
              sessions: [{ start: meeting.start, end: meeting.end }],
            };
      const topic = request.topic ?? 'cancelled';
      const language = emailLanguageOf(request.language);
      const first = facts.sessions[0];
      const base = deps.publicBaseUrl?.() ?? '';
      const meetingId = meeting?.id ?? 'example';
      const location =
        meeting?.trainingType === 'link' && meeting.remoteLink !== undefined
          ? meeting.remoteLink
          : `${base}/call?meeting=${encodeURIComponent(meetingId)}`;
      const rendered = renderCancellationEmail({
        templates: { subject: request.subject, bodyTemplate: request.bodyTemplate },
        ...(topic !== 'cancelled'
          ? {
              trainingType: trainingTypeNames[language][meeting?.trainingType ?? '1-1'],
              location,
            }
          : {}),
        recipientRole: role,
        siteName: deps.siteName,
        kind: 'meeting',
        title: facts.title,
        ...(facts.reason !== undefined ? { reason: facts.reason } : {}),
        customerName: facts.customerName,
        instructorName: facts.instructorName,
        timezone: facts.timezone,
        ...(request.language !== undefined ? { language: request.language } : {}),
        sessions:
          topic === 'rescheduled' && first !== undefined
            ? [{ ...first, previousStart: new Date(Date.parse(first.start) - 86_400_000).toISOString() }]
            : facts.sessions,
      });
      if (E.isLeft(rendered))
        return E.left({ _tag: 'ValidationFailed', errors: [{ path: 'bodyTemplate', message: rendered.left }] });
      return E.right({ ...rendered.right, ...(meeting !== undefined ? { meetingId: meeting.id } : {}) });
    },
  };
};

export type SettingsPreview = ReturnType<typeof createSettingsPreview>;
