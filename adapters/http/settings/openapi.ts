/** The operations of `/settings` in the OpenAPI document. */

import { body, json, operation, param, reply, response } from '../openapi/builder.ts';
import type { Json, PathsOf, SchemaOf } from '../openapi/builder.ts';
import { completeSettings, defaultSettings } from '../../../domain/settings.ts';
import { SettingsBody, SettingsPreview, SettingsPreviewBody, SettingsResource, TemplateTokens } from './shapes.ts';
import { templateTokenList } from '../../../application/settings-preview.ts';
import { HistoryShape } from '../history/shapes.ts';

/** The example is the domain's default template: what a new site starts with. */
const exampleSettings = defaultSettings;
const exampleAnswer = completeSettings(defaultSettings) as unknown as Json;

const settingsPath = (schema: SchemaOf): Json => ({
  get: operation({
    operationId: 'getSettings',
    summary: 'Read the settings',
    description: 'Admins and auditors. Secrets are never returned.',
    tags: ['settings'],
    responses: {
      '200': reply('The settings.', json(schema(SettingsResource), exampleAnswer)),
      '403': response('Forbidden'),
    },
  }),
  put: operation({
    operationId: 'putSettings',
    summary: 'Replace the settings',
    description:
      'Admins only. The whole document is replaced, except that `instructorSubject` and `instructorBodyTemplate`, when left out (a body ' +
      "valid before they existed), keep their current values: `subject` and `bodyTemplate` are the member's email, as they always were. " +
      'Templates are checked for unknown tokens. Every change is recorded in the settings history.',
    tags: ['settings'],
    requestBody: body(schema(SettingsBody), 'The new settings.', exampleSettings),
    responses: {
      '200': reply('The settings as stored.', json(schema(SettingsResource), exampleAnswer)),
      '403': response('Forbidden'),
      '409': {
        ...response('Conflict'),
        description: 'Too many concurrent changes to the settings; try again.',
      },
    },
  }),
});

const settingsHistoryPath = (schema: SchemaOf): Json => ({
  get: operation({
    operationId: 'getSettingsHistory',
    summary: 'Audit history of the settings',
    description: 'Every settings change, oldest first, with who and when. Admins and auditors.',
    tags: ['settings'],
    parameters: [param('HistoryAfter'), param('HistoryLimit')],
    responses: {
      '200': reply('The history.', json(schema(HistoryShape))),
      '400': response('BadRequest'),
      '403': response('Forbidden'),
    },
  }),
});

const templateTokensPath = (schema: SchemaOf): Json => ({
  get: operation({
    operationId: 'getTemplateTokens',
    summary: 'The tokens email templates may use',
    description: 'Admins and auditors. The `{{token}}` names the templates are checked against; any other is refused.',
    tags: ['settings'],
    responses: {
      '200': reply('The tokens.', json(schema(TemplateTokens), templateTokenList())),
      '403': response('Forbidden'),
    },
  }),
});

const previewPath = (schema: SchemaOf): Json => ({
  post: operation({
    operationId: 'previewSettings',
    summary: 'Preview a cancellation email',
    description:
      'Admins only. Renders the given subject and body templates with the code and escaping the mailer uses, for the ' +
      'given session (`meetingId`), else the next one to come across the branch, else the most recent; with example ' +
      "values when there is none. Dates are in the reader's zone. Writes nothing and sends nothing. Template errors " +
      'are answered 400 naming the field (`subject`, `bodyTemplate`).',
    tags: ['settings'],
    requestBody: body(schema(SettingsPreviewBody), 'The templates to render.', {
      subject: defaultSettings.notifications.cancellation.subject,
      bodyTemplate: defaultSettings.notifications.cancellation.bodyTemplate,
      recipient: 'customer',
    }),
    responses: {
      '200': reply('The email as it would be sent.', json(schema(SettingsPreview))),
      '400': response('BadRequest'),
      '403': response('Forbidden'),
      '404': response('NotFound'),
    },
  }),
});

export const settingsPaths: PathsOf = (schema) => ({
  '/settings': settingsPath(schema),
  '/settings/template-tokens': templateTokensPath(schema),
  '/settings/preview': previewPath(schema),
  '/settings/history': settingsHistoryPath(schema),
});
